"""Translations: the gettext catalogs, the keys the code uses, the runtime lookup, dates and numbers."""

from __future__ import annotations

import ast
import os
import shutil
import string
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from fediverse_a2.i18n import LANGUAGES, format_date, format_number, format_span, month_name, translate
from fediverse_a2.web.render import template_environment

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
LOCALE = SRC / "fediverse_a2" / "locale"
AMS = ZoneInfo("Europe/Amsterdam")
# The keywords of babel.cfg's documented extract command (README, Translations).
KEYWORDS = {"t": None, "_": None, "gettext": None, "ngettext": (1, 2), "translate": (2,)}


def catalog(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


def key_of(message_id: str | tuple[str, ...]) -> str:
    return message_id[0] if isinstance(message_id, tuple) else message_id


def names(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def extracted_keys() -> dict[str, str]:
    """Every key the templates and Python code name, by Babel's own extraction (babel.cfg) plus `key=` arguments."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        SRC, method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(key_of(message), f"{filename}:{lineno}")
    # UserError(..., key="...") and error pages' text_key: keyword arguments Babel cannot extract.
    for path in (SRC / "fediverse_a2").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.keyword)
                and node.arg in ("key", "text_key")
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found.setdefault(node.value.value, f"{path.relative_to(SRC)}:{node.value.lineno}")
    return found


def test_every_key_the_code_uses_is_in_both_catalogs() -> None:
    found = extracted_keys()
    assert "comment_by" in found and "mail_footer" in found and "login_wrong" in found  # each route found keys
    for language in LANGUAGES:
        ids = {key_of(m.id) for m in catalog(language) if m.id}
        missing = {k: where for k, where in found.items() if k not in ids and k.removesuffix("_one") not in ids}
        assert not missing, f"{language}: {missing}"


def test_the_catalogs_have_the_same_keys_placeholders_and_plurals() -> None:
    nl, en = catalog("nl"), catalog("en")
    assert {m.id for m in nl if m.id} == {m.id for m in en if m.id}
    assert len(nl) > 500
    written = {language: (LOCALE / language / "LC_MESSAGES" / "messages.po").read_text() for language in LANGUAGES}
    for message in nl:
        if not message.id:
            continue
        other = en[message.id]
        assert other is not None
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        other_forms = other.string if isinstance(other.string, tuple) else (other.string,)
        assert all(forms) and all(other_forms), f"{message.id} is not translated"
        assert not message.fuzzy and not other.fuzzy
        assert set().union(*map(names, forms)) == set().union(*map(names, other_forms)), message.id
        used = sorted(set().union(*map(names, forms)))
        if used:  # the translator sees which placeholders a symbolic id's text takes
            comment = "#. placeholders: " + ", ".join(f"{{{name}}}" for name in used)
            assert all(f'{comment}\nmsgid "{key_of(message.id)}"' in text for text in written.values()), message.id


@pytest.mark.skipif(shutil.which("msgfmt") is None and not os.environ.get("CI"), reason="GNU gettext is not installed")
def test_gnu_msgfmt_accepts_the_catalogs() -> None:
    """The translators' own tools: GNU gettext's checks (formats, headers, plural forms) pass."""
    for language in LANGUAGES:
        path = LOCALE / language / "LC_MESSAGES" / "messages.po"
        proc = subprocess.run(
            ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert "fatal" not in proc.stderr and "untranslated" not in proc.stderr, proc.stderr


def test_translate_goes_through_the_catalogs_with_fallbacks() -> None:
    assert translate("nl", "comment_by", name="Bob", date="gisteren") == "Reactie van Bob op gisteren"
    assert translate("en", "comment_by", name="Bob", date="yesterday") == "Comment by Bob on yesterday"
    assert translate("de", "recent_posts") == translate("nl", "recent_posts") == "Recente blogposts"
    assert translate("nl", "no_such_key_anywhere") == "no_such_key_anywhere"


def test_plural_forms_and_numbers_follow_the_language() -> None:
    assert translate("nl", "archive_count", n=1) == "1 blogpost"
    assert translate("nl", "archive_count", n=3) == "3 blogposts"
    assert translate("nl", "archive_count", n=1234) == "1.234 blogposts"
    assert translate("en", "archive_count", n=1234) == "1,234 blog posts"
    assert translate("en", "archive_count", n="1") == "1 blog post"
    assert translate("nl", "archive_count_one") == "1 blogpost"  # the old key of the singular
    assert format_number(1234567, "nl") == "1.234.567"
    assert format_number(2.5, "en") == "2.5"


def test_templates_get_gettext_from_the_i18n_extension() -> None:
    loader = jinja2.DictLoader(
        {
            "page.html": "{{ t('comment_by', name=who, date='x') }}|{{ _('recent_posts') }}|"
            "{{ gettext('recent_posts') }}|{{ ngettext('archive_count', 'archive_count', n) }}|{{ n | number }}"
        }
    )
    nl = template_environment(loader, "nl").get_template("page.html").render(who="<b>Bob</b>", n=2000)
    assert nl == "Reactie van &lt;b&gt;Bob&lt;/b&gt; op x|Recente blogposts|Recente blogposts|2.000 blogposts|2.000"
    en = template_environment(loader, "en").get_template("page.html").render(who="Bob", n=1)
    assert en == "Comment by Bob on x|Recent blog posts|Recent blog posts|1 blog post|1"


def test_dates_by_babel_as_the_old_platform_wrote_them() -> None:
    ts = datetime(2014, 2, 20, 15, 16, tzinfo=AMS).timestamp()
    assert format_date(ts, "nl", AMS) == "20 februari 2014 om 15.16"
    assert format_date(ts, "en", AMS) == "20 February 2014 at 15:16"
    assert format_span(ts, ts + 3600, "nl", AMS) == "donderdag 20 februari 2014, 15.16\u201316.16"
    assert format_span(ts, None, "en", AMS) == "Thursday 20 February 2014, 15:16"
    assert [month_name(m, "nl") for m in (1, 3, 12)] == ["januari", "maart", "december"]
    assert month_name(5, "en") == "May"


def test_texts_to_po_converts_and_merges(tmp_path: Path) -> None:
    texts = tmp_path / "texts.py"
    texts.write_text(
        "TEXT = {\n"
        "    'nl': {'hello': 'Hallo {name}', 'files_one': '1 bestand', 'files': '{n} bestanden', 'plain': 'Nieuw'},\n"
        "    'en': {'hello': 'Hello {name}', 'files_one': '1 file', 'files': '{n} files', 'plain': 'New'},\n"
        "}\n"
    )
    locale = tmp_path / "locale"
    old = locale / "nl" / "LC_MESSAGES" / "messages.po"
    old.parent.mkdir(parents=True)
    old.write_text('msgid ""\nmsgstr ""\n\nmsgid "kept"\nmsgstr "Al vertaald"\n\nmsgid "plain"\nmsgstr "Oud"\n')
    script = ROOT / "scripts" / "texts_to_po.py"
    run = [sys.executable, str(script), "--texts", str(texts), "--locale", str(locale)]
    subprocess.run(run, check=True, capture_output=True, timeout=60)
    with old.open("rb") as f:
        nl = read_po(f, locale="nl")
    assert nl["hello"].string == "Hallo {name}"
    assert nl["plain"].string == "Nieuw"  # texts.py wins for its keys
    assert nl["kept"].string == "Al vertaald"  # entries only in the catalog stay
    assert nl["files"].id == ("files", "files") and nl["files"].string == ("1 bestand", "{n} bestanden")
    assert "files_one" not in {key_of(m.id) for m in nl}
    written = old.read_text()
    assert '#. placeholders: {name}\nmsgid "hello"' in written and "python-brace-format" not in written
    assert (locale / "en" / "LC_MESSAGES" / "messages.po").exists()
    # A second run changes nothing.
    subprocess.run(run, check=True, capture_output=True, timeout=60)
    assert old.read_text() == written


def test_texts_to_po_without_texts_only_tidies(tmp_path: Path) -> None:
    locale = tmp_path / "locale"
    for language, text in (("nl", "Hallo {name}"), ("en", "Hello {name}")):
        po = locale / language / "LC_MESSAGES" / "messages.po"
        po.parent.mkdir(parents=True)
        po.write_text(f'msgid ""\nmsgstr ""\n\nmsgid "hello"\nmsgstr "{text}"\n')
    script = ROOT / "scripts" / "texts_to_po.py"
    run = [sys.executable, str(script), "--texts", str(tmp_path / "absent.py"), "--locale", str(locale)]
    subprocess.run(run, check=True, capture_output=True, timeout=60)
    written = (locale / "nl" / "LC_MESSAGES" / "messages.po").read_text()
    assert '#. placeholders: {name}\nmsgid "hello"\nmsgstr "Hallo {name}"' in written
