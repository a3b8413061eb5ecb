"""PURE: repair and stream the not-quite-JSON that Ning's archiver writes, one top-level record at a time.

What the archiver gets wrong (FEDIVERSE_NOTES, and the repair steps of Discourse's and Pleio's Ning
importers, which met the same files):

- the array is wrapped in parentheses: `([ ... ])`;
- the comma between two records is missing (`}{`), or replaced by a stray bracket (`}]{`, `}[{`,
  which also shows up as `]{`);
- an extra `]` follows the closing one;
- a UTF-8 BOM may lead the file, and some exports carry single bytes that are not UTF-8 (Pleio's
  converter ran `utf8_encode` over the whole file for that reason).

The repair is not a text substitution: a string-aware scanner (it knows JSON strings and their
escapes) splits the top-level array into record texts, treating any run of whitespace, commas,
brackets and parentheses *between* records as a separator. Text inside strings, and the inside of
a record, are never changed, so a description containing `}{` or `)` survives as written. Each
record text is then decoded on its own: one bad record is reported by its 1-based number and a
short reason, and reading goes on. The file is read in chunks, so memory holds one chunk and the
current record, not the whole file.

A record whose quotes or braces do not balance would swallow the records after it. When a record
fails, the scanner looks inside its text for the start of a later record that does decode and has
the keys every good record so far had (`{"id": ...` with the post fields, not a nested comment),
reports the broken part, and goes on from there.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from fediverse_a2.archive.ning_scan import NingFormatError, Splitter, insert_inner_commas

__all__ = [
    "DEFAULT_CHUNK_CHARS",
    "MAX_RECORD_CHARS",
    "NingFormatError",
    "RecordResult",
    "iter_chunk_records",
    "iter_records",
    "iter_text_records",
    "repair",
]

DEFAULT_CHUNK_CHARS = 1 << 20
# A record larger than this is cut and reported (then salvaged from): it bounds memory when a
# broken record would otherwise run to the end of a large file.
MAX_RECORD_CHARS = 16 << 20

_ESCAPED_BYTE = re.compile(r"[\udc80-\udcff]")
_SIGNATURE_RECORDS = 16


def _cp1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined: keep them as Latin-1
        return chr(byte)


# Bytes that are not UTF-8 arrive as surrogate escapes; they are almost always Windows-1252 text.
_BYTE_TABLE = {0xDC00 + b: _cp1252(b) for b in range(0x80, 0x100)}


@dataclass(frozen=True, slots=True)
class RecordResult:
    """One top-level record: its 1-based number, and either its data or why it could not be read."""

    index: int
    data: dict[str, Any] | None
    error: str | None = None
    line: int = 1  # line of the file where the record starts
    repaired: bool = False  # needed commas inserted between nested objects
    note: str | None = None  # how it was read when that matters (e.g. from the -local twin only)


def _reason(exc: json.JSONDecodeError, line: int) -> str:
    return f"{exc.msg} (line {line + exc.lineno - 1}, column {exc.colno})"


def _decode(text: str, line: int) -> tuple[dict[str, Any] | None, str | None, bool]:
    """(data, None, repaired) for a readable record, else (None, reason, False)."""
    repaired = False
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            # The standard parser also takes raw control characters in strings and lone
            # surrogate escapes, both of which old exports contain and orjson refuses.
            value = json.loads(text, strict=False)
        except json.JSONDecodeError as exc:
            fixed = insert_inner_commas(text)
            if fixed is text:
                return None, _reason(exc, line), False
            try:
                value = json.loads(fixed, strict=False)
            except json.JSONDecodeError:
                return None, _reason(exc, line), False
            repaired = True
    if not isinstance(value, dict):
        return None, f"a record must be an object, not {type(value).__name__}", False
    return value, None, repaired


def _accepts(signature: frozenset[str] | None) -> Callable[[str], bool]:
    """Whether an object found inside a broken record is a later top-level record, not a nested one."""

    def accept(text: str) -> bool:
        data, _, _ = _decode(text, 1)
        if data is None:
            return False
        # Without a signature yet (the first record is broken), a nested comment must not pass
        # for a record: ask for a few keys at least.
        return len(data) >= 4 if signature is None else signature <= data.keys()

    return accept


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def iter_chunk_records(chunks: Iterable[str], *, max_record: int = MAX_RECORD_CHARS) -> Iterator[RecordResult]:
    """Read records from text chunks (the whole stream is one Ning export file)."""
    splitter = Splitter(chunks, max_record)
    signature: frozenset[str] | None = None
    seen_good = 0
    index = 0
    while (piece := splitter.next_record()) is not None:
        index += 1
        if not piece.is_object:
            yield RecordResult(index, None, f"not a record: {_preview(piece.text)!r}", piece.line)
            continue
        data, error, repaired = (None, None, False)
        if piece.complete:
            data, error, repaired = _decode(piece.text, piece.line)
        if data is not None:
            if seen_good < _SIGNATURE_RECORDS:
                keys = frozenset(data)
                signature = keys if signature is None else signature & keys
                seen_good += 1
            yield RecordResult(index, data, None, piece.line, repaired)
            continue
        cut = splitter.salvage(_accepts(signature), piece.complete) if signature or not piece.complete else None
        if cut is not None:
            _, error, _ = _decode(splitter.record_text(cut).rstrip(" \t\r\n,[]"), piece.line)
            splitter.restart(cut)
        elif not piece.complete:
            error = "the record never ends (unbalanced quotes or braces, or cut off)"
        yield RecordResult(index, None, error or "unreadable record", piece.line)


def _file_chunks(path: str | os.PathLike[str], chunk_size: int) -> Iterator[str]:
    strict = codecs.getincrementaldecoder("utf-8")("strict")
    lenient = None  # from the first byte that is not UTF-8 on: surrogate escapes, read as cp1252
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk_size)
            if lenient is None:
                pending = strict.getstate()[0]
                try:
                    text = strict.decode(block, final=not block)
                except UnicodeDecodeError:
                    lenient = codecs.getincrementaldecoder("utf-8")("surrogateescape")
                    block = pending + block
            if lenient is not None:
                text = lenient.decode(block, final=not block)
                if _ESCAPED_BYTE.search(text):
                    text = text.translate(_BYTE_TABLE)
            if text:
                yield text
            if not block:
                return


def iter_records(
    path: str | os.PathLike[str], *, chunk_size: int = DEFAULT_CHUNK_CHARS, max_record: int = MAX_RECORD_CHARS
) -> Iterator[RecordResult]:
    """Stream the records of a Ning export file (UTF-8, with or without BOM; stray non-UTF-8 bytes as cp1252)."""
    return iter_chunk_records(_file_chunks(path, chunk_size), max_record=max_record)


def iter_text_records(text: str) -> Iterator[RecordResult]:
    """Read the records of a Ning export held in a string."""
    return iter_chunk_records([text])


def repair(text: str) -> str:
    """The readable records of a Ning export as one valid JSON array (for inspection and small files)."""
    parts = [json.dumps(r.data, ensure_ascii=False) for r in iter_text_records(text) if r.data is not None]
    return "[" + ",".join(parts) + "]"
