"""PURE: the string-aware scanner under `ning_json`: it splits a stream of Ning export text into records.

A small state machine over text chunks. Between records (inside the top-level array) any run of
whitespace, commas, brackets, parentheses and BOMs is a separator: that is where the archiver's
`}{`, `}]{`, `}[{`, `]{`, the wrapping `( )` and the extra `]` are absorbed. Inside a record it
counts braces and brackets outside strings, skipping whole strings with their escapes, until the
record's own closing brace. A string not closed within the text read so far makes the scanner
read the next chunk and scan again from its opening quote, so an escape or a quote split across
two chunks is no special case. Regular expressions only jump to the next character that matters
(possessive, so they never backtrack); they never rewrite the text.

Memory: the buffer holds the current record and the unread rest of the last chunk; what lies
before the current record is dropped whenever a chunk is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["NingFormatError", "Piece", "Splitter", "insert_inner_commas", "scan_object"]

# A whole JSON string, a bracket, or a lone quote (a string not closed within the text at hand).
_STRING = r'"(?:[^"\\]++|\\.)*+"'
_TOKEN = re.compile(_STRING + r'|[{}\[\]]|"', re.DOTALL)
# Everything up to the next bracket outside strings (whole strings included) in one match, so the
# scanner only meets brackets. It stops at the quote of a string that is not closed in the text.
_CONTENT = re.compile(r'(?:[^"{}\[\]]++|' + _STRING + r")*+", re.DOTALL)
# The same for a stray value between records, which ends at a comma, a bracket or a `{`.
_JUNK_CONTENT = re.compile(r'(?:[^"{,\[\]]++|' + _STRING + r")*+", re.DOTALL)
_LEAD = re.compile(r"[\s\ufeff(]*")
_SEP = re.compile(r"[\s,\[\]();\ufeff]*")
# Where a later top-level record may start after a broken one began: an object with a key.
_CANDIDATE = re.compile(r'\{\s*"')
_SALVAGE_TRIES = 5000  # nested objects tried before giving up (a post's comments are tried too)


class NingFormatError(ValueError):
    """The input is not a Ning export at all (it does not start with an array or a record)."""


@dataclass(frozen=True, slots=True)
class Piece:
    """A record text (or a stray value between records) and the line where it starts."""

    text: str
    line: int
    is_object: bool
    complete: bool  # False when it never closed (cut off, unbalanced, or over the size limit)


def scan_object(buf: str, i: int, depth: int) -> tuple[int, int, bool]:
    """Advance over a record from i: (where to resume, depth, closed); closed once depth is back to 0."""
    n = len(buf)
    match = _CONTENT.match
    while True:
        i = match(buf, i).end()  # type: ignore[union-attr]  # `*+` always matches
        if i >= n:
            return n, depth, False
        c = buf[i]
        if c == '"':  # a string that runs past the end of buf: resume at its quote
            return i, depth, False
        i += 1
        if c in "{[":
            depth += 1
        else:
            depth -= 1
            if depth <= 0:
                return i, 0, True


def _scan_junk(buf: str, start: int) -> tuple[int, bool]:
    """Advance over a stray value between records: (where to resume, reached its end).

    It ends at the next comma, bracket or `{` outside strings, so each stray value (`null`, `42`)
    takes one record number, like any other element of the array. It always advances.
    """
    i = _JUNK_CONTENT.match(buf, start).end()  # type: ignore[union-attr]
    if i >= len(buf) or buf[i] == '"':
        return i, False
    return max(i, start + 1), True


class Splitter:
    """Split a stream of text chunks into top-level record texts (the state machine of the module docstring)."""

    def __init__(self, chunks: Iterable[str], max_record: int) -> None:
        self._chunks = iter(chunks)
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._state = "start"
        self._line = 1  # the line number at _line_pos
        self._line_pos = 0
        self._rec_start = 0
        self._rec_line = 1
        self._max = max_record

    def _line_at(self, p: int) -> int:
        self._line += self._buf.count("\n", self._line_pos, p)
        self._line_pos = p
        return self._line

    def _read(self, keep: int) -> int | None:
        """Append the next chunk, dropping the text before keep: the shift, or None at the end."""
        if self._eof:
            return None
        for chunk in self._chunks:
            if chunk:
                break
        else:
            self._eof = True
            return None
        self._line_at(keep)
        self._buf = self._buf[keep:] + chunk
        self._pos -= keep
        self._line_pos -= keep
        self._rec_start -= keep
        return keep

    def _start(self) -> None:
        while True:
            self._pos = _LEAD.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                break
            if self._read(self._pos) is None:
                self._state = "done"
                return
        c = self._buf[self._pos]
        if c not in "[{)]":  # `()` and `[]` are empty exports; the separators take the closing ones
            raise NingFormatError(f"not a Ning export: it starts with {c!r}, not '[' or '{{'")
        self._pos += c == "["
        self._state = "between"

    def next_record(self) -> Piece | None:
        """The next top-level piece (a record or a stray value between records), or None at the end."""
        if self._state == "start":
            self._start()
        while self._state == "between":
            self._pos = _SEP.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos >= len(self._buf):
                if self._read(self._pos) is None:
                    self._state = "done"
                continue
            return self._take(self._buf[self._pos] == "{")
        return None

    def _take(self, is_object: bool) -> Piece:
        self._rec_start = start = self._pos
        self._rec_line = line = self._line_at(start)
        i, depth, complete = start, 0, False
        while True:
            if is_object:
                i, depth, closed = scan_object(self._buf, i, depth)
            else:
                i, closed = _scan_junk(self._buf, i)
            if closed:
                complete = True
                break
            if i - start > self._max:
                break
            shift = self._read(start)
            if shift is None:
                i = len(self._buf)
                break
            start -= shift
            i -= shift
        self._pos = i
        text = self._buf[start:i]
        if not is_object:
            text = text.rstrip(" \t\r\n,;()[]")
        return Piece(text, line, is_object, complete)

    def _next_start(self) -> int | None:
        """Offset, from the last record's start, of a `{` right after it and its separators, else None."""
        p = self._pos
        while True:
            p = _SEP.match(self._buf, p).end()  # type: ignore[union-attr]
            if p < len(self._buf):
                return p - self._rec_start if self._buf[p] == "{" else None
            shift = self._read(self._rec_start)
            if shift is None:
                return None
            p -= shift

    def salvage(self, accept: Callable[[str], bool], complete: bool) -> int | None:
        """Offset, from the last record's start, of the first later object that `accept`s (reading ahead).

        After a complete (balanced) record, the search stops at the record that follows it, tried
        or not: a broken record right after a broken one is reported on its own, not merged.
        """
        natural = self._next_start() if complete else None
        pos = self._rec_start + 1
        tries = _SALVAGE_TRIES
        while tries > 0 and pos - self._rec_start <= self._max:
            m = _CANDIDATE.search(self._buf, pos)
            if m is None:
                shift = self._read(self._rec_start)
                if shift is None:
                    return None
                pos -= shift
                continue
            tries -= 1
            cut = m.start()
            if natural is not None and cut - self._rec_start >= natural:
                return natural
            i, depth, closed = cut, 0, False
            while True:
                i, depth, closed = scan_object(self._buf, i, depth)
                if closed or i - self._rec_start > self._max:
                    break
                shift = self._read(self._rec_start)
                if shift is None:
                    break
                cut -= shift
                i -= shift
            if closed and accept(self._buf[cut:i]):
                return cut - self._rec_start
            pos = cut + 1
        return None

    def record_text(self, length: int) -> str:
        """The first length characters of the last record (its broken part, after a salvage)."""
        return self._buf[self._rec_start : self._rec_start + length]

    def restart(self, offset: int) -> None:
        """Go on from offset characters into the last record (where salvage found a good record)."""
        self._pos = self._rec_start + offset
        self._line_pos, self._line = self._rec_start, self._rec_line
        self._state = "between"


def insert_inner_commas(text: str) -> str:
    """Insert the comma the archiver left out between two objects inside a record (`}{`), outside strings."""
    out: list[str] = []
    last = 0
    for m in _TOKEN.finditer(text):
        j = m.start()
        if text[j] != "{":
            continue
        k = j - 1
        while k >= 0 and text[k] in " \t\r\n":
            k -= 1
        if k >= 0 and text[k] == "}":
            out.append(text[last : k + 1])
            out.append(",")
            last = k + 1
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)
