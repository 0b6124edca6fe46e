"""The browser tests' own safety net: it must notice the problems it is there to catch."""

from __future__ import annotations

import pytest

from tests.browser.helpers import PageProblemError, Visitor


def test_a_blocked_inline_script_is_reported_as_a_csp_violation(visitor: Visitor) -> None:
    visitor.goto("/sign-in")
    # An inline script without the page's nonce: the Content-Security-Policy must block it.
    directive = visitor.page.evaluate("""() => new Promise((resolve) => {
      document.addEventListener(
        "securitypolicyviolation", (event) => resolve(event.effectiveDirective), {once: true});
      const script = document.createElement("script");
      script.textContent = "document.body.dataset.injected = 'ran'";
      document.body.append(script);
    })""")
    assert directive == "script-src-elem"
    assert visitor.page.evaluate("document.body.dataset.injected") is None
    with pytest.raises(PageProblemError, match="CSP violation: script-src") as caught:
        visitor.assert_no_problems()
    assert "console error: Executing inline script violates" in str(caught.value)
