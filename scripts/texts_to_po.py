"""Turn the old texts.py (a dict of texts per language, by key) into gettext catalogs.

    python scripts/texts_to_po.py [--texts src/fediverse_a2/texts.py] [--locale src/fediverse_a2/locale]

Writes LOCALE/{nl,en}/LC_MESSAGES/messages.po. The key becomes the msgid (symbolic ids), the text
the msgstr; a text with `{name}` placeholders gets a translator comment naming them (not the
python-brace-format flag: with symbolic ids, `msgfmt --check` and Poedit would then demand the
placeholders in the msgid, and Babel drops the flag on reading anyway). A pair `KEY_one` +
`KEY` (with `{n}`) becomes one plural entry `KEY` (msgstr[0] the singular, msgstr[1] the plural).

The .po files are the source of truth; texts.py is gone. This script serves to fold in keys that
branches written before the switch still add to texts.py: texts.py wins for its keys, every other
entry already in a catalog is kept as it is. Run it, check `git diff`, delete texts.py again.
Without a texts.py it only tidies the catalogs (after an edit by hand: the placeholder comments
that tests/test_i18n.py checks, Babel's layout).
"""

from __future__ import annotations

import argparse
import importlib.util
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

LANGUAGES = ("nl", "en")
ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDERS = "placeholders: "


def load_texts(path: Path) -> dict[str, dict[str, str]]:
    """The TEXT dict of a texts.py, loaded from its file (it imports nothing of the package)."""
    spec = importlib.util.spec_from_file_location("_old_texts", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TEXT


def placeholders(text: str) -> set[str]:
    """The {names} a text fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def plural_bases(texts: dict[str, str]) -> set[str]:
    """Keys whose singular lives under KEY_one and whose plural (with {n}) under KEY."""
    return {
        key[: -len("_one")]
        for key in texts
        if key.endswith("_one") and "n" in placeholders(texts.get(key[: -len("_one")], ""))
    }


def build(language: str, texts: dict[str, str], bases: set[str], old: Catalog | None) -> Catalog:
    """One language's catalog from its texts, keeping entries of the old catalog that texts lacks."""
    catalog = Catalog(
        locale=language,
        domain="messages",
        project="fediverse-a2",
        fuzzy=False,
        # A re-run changes no header: the creation date stays the first run's.
        creation_date=old.creation_date if old is not None else None,
        language_team=f"{language} <LL@li.org>",
    )
    done: set[str] = set()
    for key, text in texts.items():
        if key in bases or (key.endswith("_one") and key[: -len("_one")] in bases):
            base = key[: -len("_one")] if key.endswith("_one") else key
            if base in done:
                continue
            singular, plural = texts[base + "_one"], texts[base]
            catalog.add((base, base), (singular, plural))
            done.add(base)
            continue
        catalog.add(key, text)
        done.add(key)
    for message in old or ():
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key and key not in done and key + "_one" not in texts:
            catalog[message.id] = message
    for message in catalog:
        if message.id:
            mark_placeholders(message)
    return catalog


def mark_placeholders(message: Message) -> None:
    """Name a text's {placeholders} in a translator comment (the msgid, a symbolic key, cannot show them)."""
    texts = message.string if isinstance(message.string, tuple) else (message.string,)
    names = sorted(set().union(*(placeholders(text) for text in texts)))
    message.flags.discard("python-brace-format")
    message.auto_comments = [c for c in message.auto_comments if not c.startswith(PLACEHOLDERS)]
    if names:
        message.auto_comments.append(PLACEHOLDERS + ", ".join(f"{{{name}}}" for name in names))


def main(argv: list[str] | None = None) -> int:
    """Convert texts.py into the catalogs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=Path, default=ROOT / "src/fediverse_a2/texts.py")
    parser.add_argument("--locale", type=Path, default=ROOT / "src/fediverse_a2/locale")
    args = parser.parse_args(argv)
    # Without a texts.py the catalogs are only tidied: placeholder comments, Babel's layout.
    texts = load_texts(args.texts) if args.texts.exists() else {language: {} for language in LANGUAGES}
    keys = [set(texts[language]) for language in LANGUAGES]
    if keys[0] != keys[1]:
        print(f"nl and en differ in keys: {sorted(keys[0] ^ keys[1])}", file=sys.stderr)
        return 1
    bases = plural_bases(texts["nl"]) & plural_bases(texts["en"])
    for language in LANGUAGES:
        path = args.locale / language / "LC_MESSAGES" / "messages.po"
        old = None
        if path.exists():
            with path.open("rb") as f:
                old = read_po(f, locale=language)
        catalog = build(language, texts[language], bases, old)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=0, omit_header=False, no_location=True)
        print(f"{path}: {len(catalog)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
