"""axe-core on the page a browser test has open: it fails on every serious or critical
violation, naming the rule, the elements and what to do.

axe-core is a test tool, never served to users: it is a devDependency of package.json, which
bootstrap's `npm ci` installs, and the tests read it from node_modules (scripts/vendor_assets.py
does not copy it into static/). The pages' CSP forbids inline script and eval, and stays on for
the page under test: Playwright's page.evaluate goes through the devtools protocol
(Runtime.callFunctionOn), which the page's CSP does not govern, so the library's source runs
there as it would in the console. No CSP violation is reported (open_page records them)."""

from functools import cache
from pathlib import Path

import pytest
from django.conf import settings

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# Whatever the rule's tag (WCAG 2.x A/AA, best practice), a serious or critical finding fails.
FAILING = ("serious", "critical")
RUN = """async (failing) => {
  const result = await window.axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter((v) => failing.includes(v.impact)).map((v) => ({
    rule: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 8).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary
      .replace(/\\s+/g, ' ').slice(0, 200)),
  }));
}"""


@cache
def _source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (scripts/bootstrap.sh does)")
    # Wrapped in a function so that Playwright calls it rather than guessing what it is.
    return "() => {\n" + AXE.read_text() + "\n}"


def assert_accessible(page, where: str) -> None:
    """Run axe-core on the page as it stands (a form or menu left open is checked open)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())
    found = page.evaluate(RUN, list(FAILING))
    assert not found, (where, page.url, found)
