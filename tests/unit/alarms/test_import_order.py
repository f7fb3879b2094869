"""Every alarms module imports on its own, whatever is imported first (no circular imports).

A cycle shows only when the modules of the cycle are entered in a particular order, such as
``sagawatch alarms`` entering through ``alarms.cli``; so each module is imported first once.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import importlib, pkgutil, sys
import alarms
names = sorted(m.name for m in pkgutil.walk_packages(alarms.__path__, "alarms."))
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m == "alarms" or m.startswith("alarms.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print(len(names))
print("\\n".join(failed))
"""


def test_each_module_can_be_imported_first() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    count, *failures = result.stdout.strip().split("\n")
    assert int(count) > 40
    assert [f for f in failures if f] == []
