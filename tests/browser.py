"""The browser tests' Chromium: Debian's, one per test process, a fresh context per page; and
screenshots taken only when a person asks for them.

Why one browser per process: starting Playwright's driver and Chromium for every test cost
about a CPU-second each on the 2-core CI machine, and a new *context* (its own cookies,
storage, locale and viewport) isolates a test as well as a new browser does. The browser is
started on the first page a process asks for and stopped when the session ends
(:func:`stop`, called from ``tests/conftest.py``).

Why screenshots on request: a full-page PNG costs Chromium about a CPU-second to draw and
encode, no test reads one back, and the browser tests took ~35 of them per CI run. They are
for a person looking at the pages (a reviewer, a designer, a bug report), so
``ARREARS_SCREENSHOTS=DIR`` keeps every one in ``DIR`` (the paths are printed), and without it
:func:`keep_screenshot` takes none. What a test checks about the page, it checks in the DOM.

Playwright's sync API runs an event loop in the test's thread; Django refuses ORM calls from a
thread with a running loop unless ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set, which importing this
module does (the browser tests' live server and their own ORM calls share the process).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("ARREARS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Put on a browser test module: it skips, saying why, where Chromium is missing.
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (scripts/ensure-browser)"
)
#: The variable naming the folder screenshots are kept in; unset, none is taken.
SCREENSHOTS = "ARREARS_SCREENSHOTS"
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_started: dict[str, Any] = {}


def browser() -> Any:
    """The process's Chromium, started on first use."""
    if "browser" not in _started:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        _started["playwright"] = playwright
        _started["browser"] = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    return _started["browser"]


def stop() -> None:
    """Close the process's Chromium and Playwright's driver, if they were started."""
    browser = _started.pop("browser", None)
    playwright = _started.pop("playwright", None)
    if browser is not None:
        browser.close()
    if playwright is not None:
        playwright.stop()


@contextmanager
def chromium_page(**context: Any) -> Iterator[Any]:
    """A page in a new context of the process's Chromium (Chinese locale unless ``context``
    says otherwise: Playwright's ``new_context`` options); the context closes after."""
    opened = browser().new_context(**{"locale": "zh-CN", **context})
    try:
        yield opened.new_page()
    finally:
        opened.close()


def keep_screenshot(page: Any, name: str) -> Path | None:
    """A full-page screenshot of ``page`` as ``DIR/name.png`` when ``ARREARS_SCREENSHOTS=DIR``
    is set (the path is printed and returned); otherwise none is taken."""
    folder = os.environ.get(SCREENSHOTS, "").strip()
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
