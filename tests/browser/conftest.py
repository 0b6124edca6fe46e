"""Browser tests: the real app on a local port, driven by Debian's Chromium through Playwright.

* Every test in this folder is marked ``browser`` (``pytest -m "not browser"`` leaves them out).
* Chromium comes from Debian (``apt-get install -y chromium``), never from ``playwright
  install``. Without it the tests are skipped locally, and fail when ``CI=true``.
* The app is the session's ``app`` fixture (same test database), served by Werkzeug in a
  background thread. One browser for the session; a fresh context and page for every test.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.browser.helpers import Visitor, VisitorFactory

HERE = Path(__file__).resolve().parent
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
MISSING_CHROMIUM = "Debian chromium is not installed: apt-get install -y chromium"

#: Headless, and no calls home: without the background-networking flags Chromium keeps
#: trying to reach Google's services, which floods a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # This hook sees every collected test, not only this folder's.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


def find_chromium() -> str | None:
    if DEBIAN_CHROMIUM.is_file() and os.access(DEBIAN_CHROMIUM, os.X_OK):
        return str(DEBIAN_CHROMIUM)
    return shutil.which("chromium")


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = find_chromium()
    if path is None:
        if running_in_ci():
            pytest.fail(
                f"{MISSING_CHROMIUM} (CI=true, so browser tests may not be skipped)", pytrace=False
            )
        pytest.skip(MISSING_CHROMIUM)
    return path


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log line for every request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


@pytest.fixture(scope="session")
def live_server(chromium_executable: str, app: Flask) -> Iterator[str]:
    """The app served on 127.0.0.1 at a free port, for the whole session. Yields its base URL."""
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, name="casework-browser-server", daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def playwright_driver(chromium_executable: str) -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright, chromium_executable: str) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(
        executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def open_visitor(browser: Browser, live_server: str) -> Iterator[VisitorFactory]:
    """Open a new browser context (its own cookies) and tab: ``open_visitor(**PHONE)``."""
    contexts: list[BrowserContext] = []
    visitors: list[Visitor] = []

    def open_(**options: Any) -> Visitor:
        context = browser.new_context(**{**DESKTOP, **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        visitor = Visitor(context.new_page(), live_server)
        visitors.append(visitor)
        return visitor

    yield open_
    for context in contexts:
        context.close()
    for visitor in visitors:
        visitor.assert_no_problems()


@pytest.fixture
def visitor(open_visitor: VisitorFactory) -> Visitor:
    """A desktop-sized browser tab, signed out."""
    return open_visitor()


@pytest.fixture
def phone(open_visitor: VisitorFactory) -> Visitor:
    """A 390 px wide touch screen, signed out."""
    return open_visitor(**PHONE)
