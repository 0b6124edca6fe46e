"""Helpers for the browser tests: a watched page, the accessibility check, signing in."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Response, expect

from tests.conftest import Clock, MadeUser

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE = "Casework"
SCREENSHOTS = REPO_ROOT / "screenshots"

#: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
    },
    # Only the violations come back from the page: the passes are large and unused.
    "resultTypes": ["violations"],
}

_axe = Axe()

#: Chromium reports an HTTP error status of the *page itself* (a 404 page, a form answered
#: with 400/401) as a console error. Those statuses are asserted by the tests themselves;
#: the same message for a stylesheet, script or image is a real problem.
_FAILED_RESOURCE = "Failed to load resource: the server responded with a status of"

#: Runs in every page before its own scripts; Playwright injects it outside the page's CSP.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__caseworkCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}`
    + ` (${event.sourceFile || document.location.href}:${event.lineNumber})`
  );
});
"""


def check_a11y(page: Page) -> None:
    """Run axe (WCAG 2.2 A and AA) on the page as it is now; there must be no violations."""
    results = _axe.run(page, options=AXE_OPTIONS)
    violations: list[dict[str, Any]] = results.response["violations"]
    report = []
    for violation in violations:
        report.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        report.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            targets = ", ".join(
                " ".join(map(str, t)) if isinstance(t, list) else t for t in node["target"]
            )
            report.append(f"    at {targets}: {node.get('failureSummary', '')!s}".rstrip())
    assert not violations, (
        f"{len(violations)} accessibility violation(s) on {page.url}:\n" + "\n".join(report)
    )


class PageProblemError(AssertionError):
    """A console error, JavaScript error, CSP violation or failed resource on a page."""


@dataclass
class Visitor:
    """A browser tab, watched for console errors, CSP violations and failed page resources.

    ``check()`` is called on every page a test reaches: it asserts that the page's JavaScript
    ran, that nothing went wrong in the console, and that axe finds no violations.
    """

    page: Page
    base_url: str
    console_errors: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    failed_resources: list[str] = field(default_factory=list)
    document_urls: set[str] = field(default_factory=set)
    reported: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        page = self.page
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_request_failed)
        page.expose_function("__caseworkCspViolation", self._on_csp_violation)
        page.add_init_script(_CSP_LISTENER)

    def _on_csp_violation(self, description: str) -> None:
        self.csp_violations.append(description)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message)

    def _on_request_failed(self, request: Request) -> None:
        # ERR_ABORTED: the browser dropped the request because the page moved on (a favicon
        # still loading when a form is sent). A blocked or broken resource fails otherwise.
        if request.failure != "net::ERR_ABORTED":
            self.failed_resources.append(f"{request.url}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        if response.request.resource_type == "document":
            self.document_urls.add(response.url)
        elif response.status >= 400:
            self.failed_resources.append(f"{response.url}: HTTP {response.status}")

    # --- navigation -----------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path

    def goto(self, path: str, *, status: int = 200, check: bool = True) -> Response:
        """Open ``path``; it must answer ``status`` (after redirects). Then ``check()`` it."""
        response = self.page.goto(self.url(path))
        assert response is not None, path
        assert response.status == status, f"{path} answered {response.status}, not {status}"
        if check:
            self.check()
        return response

    def navigates(self) -> AbstractContextManager[Any]:
        """``with visitor.navigates(): <click or key press>`` waits for the next page to load."""
        return self.page.expect_navigation()

    def submit(self, button: Locator) -> None:
        """Click a button that loads a new page, then ``check()`` that page."""
        with self.navigates():
            button.click()
        self.check()

    # --- checks ---------------------------------------------------------------------------

    def check(self, *, screenshot: str | None = None) -> None:
        """Everything a page must get right, whatever it shows."""
        page = self.page
        # GOV.UK Frontend's JavaScript (loaded by app.mjs) initialised the page's components:
        # the class is set on <body>, and the skip link, present on every page, is marked
        # as initialised by GOV.UK Frontend itself (the class alone is also set inline).
        assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
        expect(page.locator(".govuk-skip-link")).to_have_attribute("data-govuk-skip-link-init", "")
        self.assert_no_problems()
        if screenshot:
            self.screenshot(screenshot)
        check_a11y(page)

    def problems(self) -> list[str]:
        found = [
            f"console error: {m.text} ({m.location.get('url')})"
            for m in self.console_errors
            if not self._is_page_status(m)
        ]
        found += [f"JavaScript error: {e}" for e in self.page_errors]
        found += [f"CSP violation: {v}" for v in self.csp_violations]
        found += [f"resource failed: {r}" for r in self.failed_resources]
        return found

    def assert_no_problems(self) -> None:
        """Each problem is reported once: by the first check that sees it."""
        problems = [p for p in self.problems() if p not in self.reported]
        if problems:
            self.reported.update(problems)
            raise PageProblemError(f"on {self.page.url}:\n" + "\n".join(problems))

    def _is_page_status(self, message: ConsoleMessage) -> bool:
        url = urlsplit(str(message.location.get("url", "")))._replace(fragment="").geturl()
        return message.text.startswith(_FAILED_RESOURCE) and url in self.document_urls

    def screenshot(self, name: str) -> Path:
        """A full-page PNG in screenshots/ (gitignored), for people to look at."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        return path

    # --- what users look at ---------------------------------------------------------------

    def heading(self) -> Locator:
        return self.page.locator("h1")

    def error_summary(self) -> Locator:
        return self.page.locator(".govuk-error-summary")

    def banner(self) -> Locator:
        return self.page.locator(".govuk-notification-banner")


def title(text: str, *, error: bool = False) -> str:
    """A page title as the browser shows it: "Sign in", an en dash, "Casework" (errors first)."""
    return ("Error: " if error else "") + f"{text} \N{EN DASH} {SERVICE}"


# --- signing in ---------------------------------------------------------------------------


def enter_password(visitor: Visitor, user: MadeUser, *, password: str | None = None) -> None:
    """The first step of signing in, through the sign-in page."""
    page = visitor.page
    visitor.goto("/sign-in")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(password or user.password)
    visitor.submit(page.get_by_role("button", name="Sign in"))


def code_for(secret: str, clock: Clock) -> str:
    """The code an authenticator app shows now. The app's clock in tests is ``clock``."""
    return str(pyotp.TOTP(secret).at(clock.now))


def wrong_code_for(secret: str, clock: Clock) -> str:
    """A 6-digit code that is not accepted now (the app accepts one step either side)."""
    totp = pyotp.TOTP(secret)
    accepted = {totp.at(clock.now.timestamp() + 30 * step) for step in (-1, 0, 1)}
    return next(
        code
        for n in range(1_000_000)
        if (code := f"{(123_456 + n) % 1_000_000:06d}") not in accepted
    )


def sign_in(visitor: Visitor, user: MadeUser, clock: Clock) -> None:
    """Sign in through the real pages: email and password, then the security code."""
    assert user.totp_secret, "this helper is for users who have set up two-factor"
    enter_password(visitor, user)
    assert visitor.path == "/sign-in/two-factor", visitor.page.url
    visitor.page.get_by_label("Security code").fill(code_for(user.totp_secret, clock))
    visitor.submit(visitor.page.get_by_role("button", name="Continue"))
    assert not visitor.path.startswith("/sign-in"), visitor.page.url


def secret_shown(visitor: Visitor) -> str:
    """The key for typing into an authenticator app, as the enrolment page shows it."""
    text = visitor.page.locator("#mfa-secret").inner_text()
    secret = re.sub(r"\s+", "", text)
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), text
    return secret


VisitorFactory = Callable[..., Visitor]
