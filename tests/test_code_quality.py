"""ruff and mypy over every package, as part of the suite (issue: the suite runs both)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["sagawatch", "instrumented_app", "collectors", "reconciler", "alarms", "dashboard"]


def _tool(name: str) -> str:
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [_tool("ruff"), "check", *PACKAGES, "tests", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


AUDIT_PACKAGES = ("collectors", "reconciler", "alarms", "dashboard")


def _imported_packages(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_app_and_the_audit_packages_never_import_each_other() -> None:
    """DESIGN.md's dependency direction: they meet only in ``sagawatch`` (the contracts) and in the data."""
    crossings = []
    for package, forbidden in [("instrumented_app", set(AUDIT_PACKAGES))] + [
        (audit, {"instrumented_app"}) for audit in AUDIT_PACKAGES
    ]:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _imported_packages(path) & forbidden:
                crossings.append(f"{path.relative_to(ROOT)} imports {name}")
    assert crossings == []
