"""Browser tests: Debian's Chromium driven by Playwright (async), axe-core, and HTML checks.

* `browser_page(base_url)` opens a page in a fresh context of a freshly launched Chromium and
  yields a `BrowserPage`: the Playwright `Page` plus what went wrong while it was open (console
  errors, CSP violations, uncaught exceptions, failed requests, HTTP errors). Requests to any
  host but loopback are aborted (and listed), so a page can never reach the internet.
* `assert_accessible(page)` runs axe-core's WCAG 2.x A/AA rules; `axe_violations(page)` returns them.
* `assert_valid_html(html)` validates markup with html-validate and `outline_problems(html)` checks
  the page outline (one h1, heading levels, labels, skip link, `<time datetime>`); both work on a
  response's text, without a browser.

The tools live in tests/browser/ (pinned in its package-lock.json; `bash tests/browser/install.sh`).
Without Chromium, Playwright or those tools the tests skip, unless CI=true or
FEDIVERSE_A2_BROWSER=1, in which case they fail.

Each `browser_page` launches its own Chromium (about 1-2 s with Playwright's driver): the tests
run on function-scoped event loops, and a Playwright connection belongs to the loop it started on.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser, ConsoleMessage, Page, Request, Response, Route

__all__ = [
    "CHROMIUM",
    "TOOLS",
    "BrowserPage",
    "assert_accessible",
    "assert_valid_html",
    "axe_violations",
    "browser_page",
    "format_violations",
    "html_problems",
    "html_problems_of",
    "launch_chromium",
    "open_page",
    "outline_problems",
    "require_browser",
    "require_tools",
    "valid_datetime",
]

CHROMIUM = Path("/usr/bin/chromium")
TOOLS = Path(__file__).parent / "browser"
AXE_JS = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
HTML_VALIDATE = TOOLS / "node_modules" / "html-validate" / "bin" / "html-validate.mjs"
TIMEOUT_MS = 10_000
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The flags keep Chromium off the network: no background services, no QUIC, and no name resolves
# except localhost (pages' own requests to other hosts are also aborted by a route).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


# -- skip or fail -----------------------------------------------------------------------------


def _required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("FEDIVERSE_A2_BROWSER") == "1"


def _missing(reason: str) -> None:
    """Skip locally; fail where the browser tests must run (CI, FEDIVERSE_A2_BROWSER=1)."""
    if _required():
        pytest.fail(f"{reason} (required: CI=true or FEDIVERSE_A2_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


def require_browser() -> None:
    """Skip (or fail, in CI) unless Playwright and Debian's Chromium are installed."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")


def require_tools() -> None:
    """Skip (or fail, in CI) unless node and tests/browser's node_modules are installed."""
    if shutil.which("node") is None:
        _missing("node is not installed (needed for html-validate)")
    if not (AXE_JS.is_file() and HTML_VALIDATE.is_file()):
        _missing("axe-core and html-validate are not installed (bash tests/browser/install.sh)")


# -- the browser ------------------------------------------------------------------------------


@dataclass
class BrowserPage:
    """A page and everything that went wrong on it since it opened (or since `clear()`)."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)

    @property
    def csp_violations(self) -> list[str]:
        """The console errors that report a Content-Security-Policy violation."""
        return [e for e in self.console_errors if "Content Security Policy" in e]

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions, failed requests and HTTP errors (not blocked hosts)."""
        return [
            *(f"console: {e}" for e in self.console_errors),
            *(f"exception: {e}" for e in self.page_errors),
            *(f"request failed: {e}" for e in self.failed_requests),
            *(f"HTTP error: {e}" for e in self.bad_responses),
        ]

    def assert_clean(self) -> None:
        """Fail with the list of errors, if any happened."""
        errors = self.errors()
        assert not errors, f"{len(errors)} error(s) on {self.page.url}:\n" + "\n".join(f"- {e}" for e in errors)

    def clear(self) -> None:
        """Forget what was collected so far (e.g. after deliberately opening a 404 page)."""
        for found in (self.console_errors, self.page_errors, self.failed_requests, self.bad_responses):
            found.clear()
        self.blocked_requests.clear()


@contextlib.asynccontextmanager
async def launch_chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, with a fresh temporary profile; closed on exit."""
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        # A non-persistent launch gets its own temporary user-data-dir from Playwright.
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def open_page(browser: Browser, base_url: str | None = None, **options: Any) -> AsyncIterator[BrowserPage]:
    """A page in a new context (own cookies and storage) of `browser`; `options` go to new_context."""
    context = await browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = await context.new_page()
    found = BrowserPage(page)

    async def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).hostname not in LOOPBACK:
            found.blocked_requests.append(url)
            await route.abort("blockedbyclient")
        else:
            await route.continue_()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.console_errors.append(message.text)

    def on_failed(request: Request) -> None:
        # ERR_ABORTED: the page was left while it loaded (a lazy image, an icon); not the page's fault.
        if request.url not in found.blocked_requests and request.failure != "net::ERR_ABORTED":
            found.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            found.bad_responses.append(f"{response.status} {response.request.method} {response.url}")

    await context.route("**/*", only_loopback)
    page.on("console", on_console)
    page.on("pageerror", lambda error: found.page_errors.append(str(error)))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    try:
        yield found
    finally:
        await context.close()


@contextlib.asynccontextmanager
async def browser_page(base_url: str | None = None, **options: Any) -> AsyncIterator[BrowserPage]:
    """Launch Chromium and open one page in a fresh context (see `open_page`)."""
    async with launch_chromium() as browser, open_page(browser, base_url, **options) as found:
        yield found


# -- axe-core ---------------------------------------------------------------------------------

_RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary})),
  }));
}"""


async def axe_violations(page: Page, tags: tuple[str, ...] = WCAG_TAGS) -> list[dict[str, Any]]:
    """Run axe-core's rules of `tags` (WCAG 2.x A and AA) on the page; its violations, simplified."""
    require_tools()
    if not await page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern;
        # add_script_tag inserts an inline <script>, which `script-src 'self'` blocks.
        await page.evaluate(AXE_JS.read_text() + "\n;undefined")
    violations: list[dict[str, Any]] = await page.evaluate(_RUN_AXE, list(tags))
    return violations


def format_violations(violations: list[dict[str, Any]]) -> str:
    """One line per violation and one per offending element, for a failure message."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            summary = " ".join(str(node["summary"] or "").split())
            lines.append(f"    {node['target']}: {node['html'][:160]}\n      {summary}")
    return "\n".join(lines)


async def assert_accessible(page: Page, tags: tuple[str, ...] = WCAG_TAGS) -> None:
    """Fail with a readable list when axe-core finds WCAG 2.x A/AA violations."""
    violations = await axe_violations(page, tags)
    assert not violations, f"axe-core: {len(violations)} violation(s) on {page.url}:\n" + format_violations(violations)


# -- HTML validity ----------------------------------------------------------------------------

# The spec's rules ("standard"), the accessibility rules ("a11y"), and the document-level rules
# of "document" except require-sri (our own stylesheet needs no integrity hash).
HTML_VALIDATE_CONFIG = {
    "extends": ["html-validate:standard", "html-validate:a11y"],
    "rules": {
        "missing-doctype": "error",
        "heading-level": "error",
        "input-missing-label": "error",
        "no-missing-references": "error",
    },
}


def html_problems(html: str) -> list[str]:
    """What html-validate (tests/browser's pinned version) finds wrong with a document."""
    return html_problems_of({"page": html})["page"]


def html_problems_of(documents: dict[str, str]) -> dict[str, list[str]]:
    """html_problems of several documents (by name) in one run of html-validate (one Node start)."""
    require_tools()
    names = list(documents)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "htmlvalidate.json"
        config.write_text(json.dumps(HTML_VALIDATE_CONFIG))
        files = []
        for n, name in enumerate(names):
            path = Path(folder) / f"page{n}.html"
            path.write_text(documents[name])
            files.append(path.name)
        proc = subprocess.run(
            ["node", str(HTML_VALIDATE), "--config", str(config), "--formatter", "json", *files],
            capture_output=True,
            text=True,
            timeout=60 + 5 * len(files),
            cwd=folder,  # no configuration files found by searching upwards
        )
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not proc.stdout.strip()):
        raise AssertionError(f"html-validate failed ({proc.returncode}): {proc.stderr}")
    found: dict[str, list[str]] = {name: [] for name in names}
    for result in json.loads(proc.stdout or "[]"):
        name = names[int(Path(result["filePath"]).stem.removeprefix("page"))]
        lines = documents[name].splitlines()
        for m in result["messages"]:
            source = lines[m["line"] - 1].strip()[:120] if 0 < m["line"] <= len(lines) else ""
            found[name].append(f"line {m['line']}: {m['message']} [{m['ruleId']}]\n    {source}")
    return found


_FIELDS = {"input", "select", "textarea"}
_UNLABELLED_INPUTS = {"hidden", "submit", "reset", "button", "image"}
_HEADINGS = {f"h{n}" for n in range(1, 7)}


class _Outline(HTMLParser):
    """Collects what `outline_problems` needs in one pass over the markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.headings: list[tuple[int, int]] = []  # (level, line)
        self.fields: list[tuple[str, dict[str, str], bool, int]] = []  # (tag, attrs, inside a label, line)
        self.times: list[tuple[str | None, int]] = []
        self.first_focusable: tuple[str, dict[str, str], int] | None = None
        self.open_labels = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        line = self.getpos()[0]
        if "id" in a:
            self.ids.add(a["id"])
        if tag in _HEADINGS:
            self.headings.append((int(tag[1]), line))
        elif tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag == "time":
            self.times.append((dict(attrs).get("datetime"), line))
        if tag in _FIELDS and not (tag == "input" and a.get("type", "text").lower() in _UNLABELLED_INPUTS):
            self.fields.append((tag, a, self.open_labels > 0, line))
        if self.first_focusable is None and _focusable(tag, a):
            self.first_focusable = (tag, a, line)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self.open_labels:
            self.open_labels -= 1


def _focusable(tag: str, a: dict[str, str]) -> bool:
    """Whether Tab reaches the element (as far as markup alone tells)."""
    if a.get("tabindex", "").strip().lstrip("-").isdigit():
        return int(a["tabindex"]) >= 0
    if "disabled" in a and tag in {"button", "input", "select", "textarea"}:
        return False
    if tag in {"a", "area"}:
        return "href" in a
    if tag == "input":
        return a.get("type", "").lower() != "hidden"
    return tag in {"button", "select", "textarea", "iframe", "summary"} or a.get("contenteditable") in ("", "true")


def _attr(a: dict[str, str], limit: int = 80) -> str:
    shown = " ".join(f'{k}="{v}"' for k, v in a.items())
    return shown[:limit]


def outline_problems(html: str) -> list[str]:
    """The page outline's problems: h1 count, skipped heading levels, unlabelled fields, the skip
    link (the first focusable element, pointing at an existing id) and `<time datetime>` values."""
    outline = _Outline()
    outline.feed(html)
    outline.close()
    problems = []
    h1s = [line for level, line in outline.headings if level == 1]
    if len(h1s) != 1:
        problems.append(f"{len(h1s)} <h1> elements (lines {h1s}), expected exactly one")
    previous = 0
    for level, line in outline.headings:
        if level > previous + 1:
            after = f"follows <h{previous}>" if previous else "is the first heading"
            problems.append(f"line {line}: <h{level}> {after}, skipping a level")
        previous = level
    for tag, a, inside_label, line in outline.fields:
        labelled_by = a.get("aria-labelledby", "").split()
        if not (
            inside_label
            or a.get("id") in outline.label_for
            or a.get("aria-label", "").strip()
            or (labelled_by and all(i in outline.ids for i in labelled_by))
        ):
            problems.append(f"line {line}: <{tag} {_attr(a)}> has no <label for>, aria-label or aria-labelledby")
    first = outline.first_focusable
    if first is None:
        problems.append("no skip link: the page has no focusable element")
    else:
        tag, a, line = first
        href = a.get("href", "")
        if tag != "a" or not href.startswith("#") or len(href) < 2:
            problems.append(f"no skip link: the first focusable element (line {line}) is <{tag} {_attr(a)}>")
        elif href[1:] not in outline.ids:
            problems.append(f"line {line}: the skip link points at #{href[1:]}, which no element has as id")
    for value, line in outline.times:
        if value is None:
            problems.append(f"line {line}: <time> without a datetime attribute")
        elif not valid_datetime(value):
            problems.append(f'line {line}: <time datetime="{value}"> is not a valid date/time string')
    return problems


def assert_valid_html(html: str) -> None:
    """Fail with a readable list if html-validate or `outline_problems` finds anything."""
    problems = html_problems(html) + outline_problems(html)
    assert not problems, f"{len(problems)} HTML problem(s):\n" + "\n".join(f"- {p}" for p in problems)


# The forms of HTML's "valid date string with optional time", "valid time string", week, month,
# year, yearless date, time-zone offset and duration string (ISO 8601's P form and "1h 30m").
_Y, _M, _D = r"(?P<y>\d{4,})", r"(?P<m>\d\d)", r"(?P<d>\d\d)"
_T = r"(?P<hh>\d\d):(?P<mi>\d\d)(?::(?P<ss>\d\d)(?:\.\d{1,3})?)?"
_Z = r"(?:Z|(?P<zs>[+-])(?P<zh>\d\d):?(?P<zm>\d\d))"
_DATETIME_FORMS = [
    re.compile(p)
    for p in (
        rf"{_Y}",
        rf"{_Y}-{_M}",
        rf"{_Y}-{_M}-{_D}",
        rf"(?:--)?{_M}-{_D}",
        rf"{_T}",
        rf"{_Y}-{_M}-{_D}[T ]{_T}",
        rf"{_Y}-{_M}-{_D}[T ]{_T}{_Z}",
        rf"{_Z}",
        rf"{_Y}-W(?P<w>\d\d)",
        r"P(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d{1,3})?S)?)?",
        r"\s*(?:\d+(?:\.\d{1,3})?\s*[wdhms]\s*)+",
    )
]


def valid_datetime(value: str) -> bool:
    """Whether `value` is a valid `<time datetime>` value (its numbers in range too)."""
    for form in _DATETIME_FORMS:
        match = form.fullmatch(value)
        if match is None or value == "P":
            continue
        n = {k: int(v) for k, v in match.groupdict().items() if v is not None and k != "zs"}
        year, month = n.get("y", 2000), n.get("m", 1)  # a yearless date may be 02-29
        days = [31, 29 if calendar.isleap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        weeks = 53 if 1 <= year <= 9999 and dt.date(year, 12, 28).isocalendar()[1] == 53 else 52
        return (
            year > 0
            and 1 <= month <= 12
            and 1 <= n.get("d", 1) <= days[month - 1]
            and 1 <= n.get("w", 1) <= weeks
            and n.get("hh", 0) <= 23
            and n.get("mi", 0) <= 59
            and n.get("ss", 0) <= 59
            and n.get("zh", 0) <= 23
            and n.get("zm", 0) <= 59
        )
    return False
