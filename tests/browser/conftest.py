"""What every browser journey needs, per test and shared with no other module: Chromium, a page, a folder.

Nothing here outlives the test that asked for it, and nothing is imported from another test module:
each journey launches its own Chromium (about a second) in its own Playwright, writes its screenshots
under its own ``tmp_path`` (or ``$SAGAWATCH_SCREENSHOTS/<test>``), and leaves ``os.environ`` alone.
Debian's Chromium is driven as DESIGN.md says; a ``playwright install`` download cannot work here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Playwright's wait for a page element, in ms: a Streamlit page renders after its websocket connects.
UI_TIMEOUT_MS = 30_000
#: The first render of a fresh Streamlit process imports pandas and Altair: slow on a loaded machine.
FIRST_RENDER_MS = 120_000


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run in CI: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def screenshots(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """This test's screenshot folder: under its ``tmp_path``, or ``$SAGAWATCH_SCREENSHOTS/<test name>``."""
    shared = os.environ.get("SAGAWATCH_SCREENSHOTS")
    folder = Path(shared) / request.node.name if shared else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser_page(chromium: Path) -> Iterator[Any]:
    """A fresh page in a Chromium of this test's own, closed with it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def shot(page: Any, folder: Path, name: str) -> Path:
    """Save what the operator sees now as ``<name>.png`` (after the charts have drawn)."""
    page.wait_for_timeout(1000)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def scroll_to(locator: Any, attempts: int = 3) -> None:
    """Bring what ``locator`` finds into view for a screenshot.

    The dashboard refreshes itself every few seconds and Streamlit may replace the element between
    finding and scrolling ("not attached to the DOM"); the locator finds the new one on a retry.
    """
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(attempts):
        try:
            locator.scroll_into_view_if_needed(timeout=10_000)
            return
        except PlaywrightError:
            if attempt == attempts - 1:
                raise
            locator.wait_for()


def metric_value(page: Any, label: str) -> str:
    """The value shown on the ``st.metric`` tile whose label contains ``label``."""
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return str(metric.locator('[data-testid="stMetricValue"]').inner_text()).strip()
