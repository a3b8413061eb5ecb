"""Test helper (not a test): write a realistic Ning archiver export folder, quirks included.

`generate_archive(folder, members=..., posts=..., comments_per_post=..., seed=...)` writes
`ning-members.json`, `ning-blogs.json`, `ning-groups.json`, `ning-discussions.json`, each with its
`-local.json` twin (media addresses replaced by paths to files written beside them), with the
real format's quirks:

- the array wrapped in `( ... )`, an extra `]` at the end, a UTF-8 BOM on the members file;
- commas missing between top-level records: `}{`, `}]{`, `}[{`, `] {` (each at least once), and
  strings that contain those very sequences (titles, descriptions), which must stay as written;
- comments (and replies, wall comments) newest first, some with equal dates;
- drafts and queued posts; members who left, are suspended or pending; owner/admin/moderator levels;
- dates with `Z` and milliseconds, with `+01:00`/`+0200`/`+0100` offsets, naive (Amsterdam), and
  on both DST changes of 2013;
- HTML descriptions with paragraphs, lists, links, images, and hostile markup (script, onerror,
  javascript: links, an iframe);
- accents and other scripts in names, duplicate full names, an HTML-escaped name;
- broken records when `broken=True`: member 3 (a bare `undefined`), blog post 5 (a missing comma),
  blog post 8 (cut off in the middle of a string, so its quotes do not balance), and the last
  discussion cut off at the end of the file. They must be reported by number and skipped.

Streaming: records are written as they are made (orjson), so 10,000 members, 10,000 posts and
100,000 comments take a few seconds. `keep_details=False` keeps only counts in the returned
manifest (for the benchmark); `media_every=N` writes media for one record in N.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Separators between records: the quirks first, so that even a small archive has each one.
QUIRK_SEPARATORS = [b"", b"]", b"[", b"] ", b"\n", b",\n", b","]
START = int(datetime(2008, 3, 1, tzinfo=UTC).timestamp())
END = int(datetime(2014, 6, 1, tzinfo=UTC).timestamp())
# Instants on the 2013 DST changes (UTC): the spring gap and the autumn overlap in Amsterdam.
DST_INSTANTS = [
    int(datetime(2013, 3, 31, 0, 59, tzinfo=UTC).timestamp()),
    int(datetime(2013, 3, 31, 1, 0, tzinfo=UTC).timestamp()),
    int(datetime(2013, 3, 31, 1, 30, tzinfo=UTC).timestamp()),
    int(datetime(2013, 10, 27, 0, 30, tzinfo=UTC).timestamp()),
    int(datetime(2013, 10, 27, 1, 30, tzinfo=UTC).timestamp()),
]
FIRST = ["Jan", "Marie Louise", "Henk", "José", "Zoë", "Anouk", "Sébastien", "Ümit", "Fatima", "Łukasz", "Søren",
         "Noël", "Inès", "Đorđe", "Ærin", "Pieter", "Esther", "Mohamed", "Kees", "Renée"]  # fmt: skip
LAST = ["de Vries", "van den Berg", "Jansen", "Ruíz", "Çelik", "van 't Hof", "Øvergaard", "Bakker", "de Jong",
        "Müller", "O'Brien", "Straße", "van der Wal", "Smit", "El Amrani", "Visser"]  # fmt: skip
SPECIAL_NAMES = ["Jan de Vries", "Jan de Vries", "Jan-de Vries", "李小龙", "Σωκράτης", "Jansen &amp; Zn.", "—"]
WORDS = ["overheid", "ambtenaar", "netwerk", "samenwerken", "innovatie", "gemeente", "provincie", "rijk", "burger",
         "beleid", "open", "data", "participatie", "digitaal", "dienstverlening", "kennis", "delen", "vernieuwing",
         "programma", "pleio", "werkvloer"]  # fmt: skip
HOSTILE = ('<script>alert("x")</script><img src="x" onerror="alert(1)">'
           '<a href="javascript:alert(1)">klik</a><iframe src="https://evil.example/"></iframe>')  # fmt: skip
TRICKY = ["Wat nu? }{ of }]{ of }[{ (echt)", 'Haakjes ) en ( en "aanhalingstekens" \\ backslash', "Gewoon"]
BLOG_CATEGORIES = ["Innovatie", "Uncategorized", "Open data", None, "Participatie"]
STATES = ["active"] * 92 + ["suspended"] * 3 + ["left"] * 3 + ["pending"] * 2


@dataclass
class ExpectedComment:
    id: str
    author: str
    created: int


@dataclass
class ExpectedPost:
    author: str
    title: str
    status: str
    published: int | None
    updated: int
    category: str | None
    comments: list[ExpectedComment]  # oldest first, as the reader must return them
    attachments: int
    unsafe_attachments: int


@dataclass
class GeneratedArchive:
    folder: Path
    counts: dict[str, int] = field(default_factory=dict)  # records written per kind (broken included)
    comments: int = 0  # comments written (on readable and broken posts)
    broken: dict[str, list[int]] = field(default_factory=dict)  # 1-based record numbers per kind
    members: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)  # cn -> name, state, level, joined
    posts: dict[str, ExpectedPost] = field(default_factory=dict)
    groups: dict[str, tuple[str, bool, set[str]]] = field(default_factory=dict)  # id -> title, private, members
    discussions: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict)  # id -> group, reply ids
    media_files: list[str] = field(default_factory=list)


def ning_date(epoch: int, style: int) -> str:
    """A date the way the archiver writes it, in one of several styles (all meaning `epoch`)."""
    utc = datetime.fromtimestamp(epoch, UTC)
    local = utc.astimezone(AMSTERDAM)
    if style == 1:
        return local.isoformat(timespec="seconds")  # +01:00 / +02:00
    if style == 2:
        return local.strftime("%Y-%m-%dT%H:%M:%S%z")  # +0100
    if style == 3:
        naive = local.replace(tzinfo=None, fold=0)
        # Naive means Amsterdam; an hour that happens twice is written with its offset instead.
        if int(naive.replace(tzinfo=AMSTERDAM).timestamp()) == epoch:
            return naive.strftime("%Y-%m-%d %H:%M:%S")
        return local.isoformat(timespec="seconds")
    return utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class _Twins:
    """The main file and its -local twin, written side by side with the same separators."""

    def __init__(self, folder: Path, kind: str, rng: random.Random, bom: bool = False) -> None:
        # Both stay open while the records stream in; close() closes them.
        paths = [folder / f"ning-{kind}.json", folder / f"ning-{kind}-local.json"]
        self.files: list[IO[bytes]] = [path.open("wb") for path in paths]
        self.rng = rng
        self.count = 0
        for fh in self.files:
            fh.write((b"\xef\xbb\xbf" if bom else b"") + b"([")

    def write(self, main: bytes, local: bytes) -> None:
        if self.count:
            if self.count <= len(QUIRK_SEPARATORS):
                sep = QUIRK_SEPARATORS[self.count - 1]
            else:
                sep = b"," if self.rng.random() < 0.6 else self.rng.choice(QUIRK_SEPARATORS)
            for fh in self.files:
                fh.write(sep)
        self.files[0].write(main)
        self.files[1].write(local)
        self.count += 1

    def close(self, cut_off: bool = False) -> None:
        for fh in self.files:
            if not cut_off:
                fh.write(b"]\n]\n)")  # the extra ] before the closing parenthesis
            fh.close()


def _dump(record: dict[str, Any], ascii_escapes: bool) -> bytes:
    if ascii_escapes:  # some records carry \u escapes instead of raw UTF-8
        return json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode()
    return orjson.dumps(record)


def _break(text: bytes, how: str) -> bytes:
    if how == "undefined":
        return b'{"broken":undefined,' + text[1:]
    if how == "missing-comma":
        first = text.index(b'",')  # after the first value: {"id":"..." "contributorName":...
        return text[: first + 1] + b" " + text[first + 2 :]
    cut = text.index(b'"title":"') + len(b'"title":"') + 4
    return text[:cut]  # "cut-off": ends inside a string


class _Text:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sentences = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 14))).capitalize() + "." for _ in range(300)
        ]

    def para(self, n: int) -> str:
        return " ".join(self.rng.choices(self.sentences, k=n))


def _media(folder: Path, path: str, data: bytes, out: list[str]) -> None:
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    out.append(path)


def _contributor_names(rng: random.Random, n: int) -> Iterator[str]:
    seen: set[str] = set()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    while len(seen) < n:
        name = str(rng.randint(0, 3)) + "".join(rng.choices(alphabet, k=12))
        if name not in seen:
            seen.add(name)
            yield name


def _comment_counts(rng: random.Random, posts: int, per_post: int) -> list[int]:
    counts = [per_post] * posts
    for i in range(0, posts - 1, 2):  # shift between neighbours: varied, same total
        d = rng.randint(0, per_post)
        counts[i] -= d
        counts[i + 1] += d
    return counts


def generate_archive(
    folder: Path,
    *,
    members: int = 40,
    posts: int = 30,
    comments_per_post: int = 4,
    groups: int = 3,
    discussions: int = 6,
    seed: int = 1,
    broken: bool = True,
    keep_details: bool = True,
    media_every: int = 1,
) -> GeneratedArchive:
    """Write an export folder (see the module docstring) and return what a reader must find in it."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    text = _Text(rng)
    out = GeneratedArchive(folder)
    names = list(_contributor_names(rng, members))
    member_joined: dict[str, int] = {}

    # -- members ----------------------------------------------------------------------------
    w = _Twins(folder, "members", rng, bom=True)
    broken_members = {3} if broken and members >= 5 else set()
    for i, cn in enumerate(names, start=1):
        full = SPECIAL_NAMES[i - 1] if i <= len(SPECIAL_NAMES) else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        joined = rng.randint(START, END - 86400 * 200)
        member_joined[cn] = joined
        level = "owner" if i == 1 else "admin" if i in (2, 9) else "moderator" if i in (4, 10) else "member"
        # Every state at least once (5-7), then the usual mix.
        state = {5: "left", 6: "suspended", 7: "pending"}.get(i, "active" if i <= 8 else rng.choice(STATES))
        record: dict[str, Any] = {
            "contributorName": cn, "fullName": full, "email": f"lid{i}@example.nl",
            "createdDate": ning_date(joined, i % 4), "profilePhoto": None, "level": level, "state": state,
            "gender": rng.choice(["m", "f", None]), "location": "Utrecht", "country": "NL",
        }  # fmt: skip
        local = dict(record)
        if i % media_every == 0:
            record["profilePhoto"] = f"https://api.ning.com/files/Ab{i}*Cd/{cn}.jpg?width=184&height=184&crop=1%3A1"
            local["profilePhoto"] = f"members/{cn}.jpg?width=184&height=184&crop=1%3A1"
            _media(folder, f"members/{cn}.jpg", b"\xff\xd8\xff\xe0 photo " + cn.encode(), out.media_files)
        main_b, local_b = _dump(record, i % 50 == 7), _dump(local, i % 50 == 7)
        if i in broken_members:
            main_b, local_b = _break(main_b, "undefined"), _break(local_b, "undefined")
        elif keep_details:
            out.members[cn] = (full.replace("&amp;", "&"), state, level, joined)
        w.write(main_b, local_b)
    w.close()
    out.counts["members"] = members
    out.broken["members"] = sorted(broken_members)

    # -- blog posts -------------------------------------------------------------------------
    w = _Twins(folder, "blogs", rng)
    breaks = {5: "missing-comma", 8: "cut-off"} if broken and posts >= 10 else {}
    counts = _comment_counts(rng, posts, comments_per_post)
    comment_seq = itertools.count(1)
    for i in range(1, posts + 1):
        pid = f"2570916:BlogPost:{1000 + i}"
        author = names[(i * 7) % members]
        created = DST_INSTANTS[i % len(DST_INSTANTS)] if i % 11 == 0 else rng.randint(START, END - 86400 * 60)
        status = "draft" if i % 13 == 4 else "queued" if i % 29 == 6 else "publish"
        publish_time = None if status == "draft" else created + (86400 * 400 if status == "queued" else 60)
        updated = created + rng.choice([0, 3600, 86400 * 3])
        title = TRICKY[i % len(TRICKY)] + f" {i}"
        image = i % media_every == 0
        desc_main, desc_local = _description(text, i, image)
        if image:
            _media(folder, f"blogs/foto{i}.jpg", b"\xff\xd8\xff\xe0 foto", out.media_files)
        attachments_main: list[str] = []
        attachments_local: list[str] = []
        unsafe = 0
        if image and i % 3 == 0:
            attachments_main.append(f"https://api.ning.com/files/Xy{i}/verslag.pdf")
            attachments_local.append(f"blogs/{1000 + i}-verslag.pdf")
            _media(folder, f"blogs/{1000 + i}-verslag.pdf", b"%PDF-1.4 verslag", out.media_files)
        if i == 6:
            attachments_main.append("https://api.ning.com/files/evil/passwd")
            attachments_local.append("../../etc/passwd")  # a hostile twin: must never be copied
            unsafe = 1
        expected_comments: list[ExpectedComment] = []
        raw_comments: list[tuple[dict[str, Any], dict[str, Any]]] = []
        when = created
        for n in range(counts[i - 1]):
            if not (n and rng.random() < 0.1):  # one in ten shares the previous comment's date
                when += rng.randint(60, 86400 * 3)
            cid = f"2570916:Comment:{next(comment_seq)}"
            commenter = names[(i + n * 3) % members] if n != 2 else "0deleted0member"
            comment = {"id": cid, "contributorName": commenter, "description": "<p>" + text.para(2) + "</p>",
                       "createdDate": ning_date(when, (n + i) % 4)}  # fmt: skip
            raw_comments.append((comment, comment))
            expected_comments.append(ExpectedComment(cid, commenter, when))
        # The export lists comments newest first.
        record = {
            "id": pid, "contributorName": author, "title": title, "description": desc_main,
            "createdDate": ning_date(created, i % 4), "updatedDate": ning_date(updated, (i + 1) % 4),
            "publishTime": None if publish_time is None else ning_date(publish_time, 0), "publishStatus": status,
            "category": BLOG_CATEGORIES[i % len(BLOG_CATEGORIES)], "fileAttachments": attachments_main,
            "comments": [c for c, _ in reversed(raw_comments)],
        }  # fmt: skip
        local = dict(record, description=desc_local, fileAttachments=attachments_local)
        main_b, local_b = _dump(record, i % 50 == 9), _dump(local, i % 50 == 9)
        if i in breaks:
            main_b, local_b = _break(main_b, breaks[i]), _break(local_b, breaks[i])
        elif keep_details:
            category = BLOG_CATEGORIES[i % len(BLOG_CATEGORIES)]
            out.posts[pid] = ExpectedPost(
                author, title, status, publish_time if publish_time is not None else created, updated,
                None if category == "Uncategorized" else category, expected_comments,
                len(attachments_main), unsafe,
            )  # fmt: skip
        out.comments += len(raw_comments)
        w.write(main_b, local_b)
    w.close()
    out.counts["blogs"] = posts
    out.broken["blogs"] = sorted(breaks)

    _groups_and_discussions(folder, rng, text, out, names, groups, discussions, broken, keep_details)
    return out


def _description(text: _Text, i: int, image: bool) -> tuple[str, str]:
    parts = [
        f"<p>{text.para(3)}</p>",
        "<ul><li>" + text.para(1) + "</li><li>" + text.para(1) + "</li></ul>",
        f'<p>Zie <a href="https://www.pleio.nl/">Pleio</a> en {TRICKY[0]}.</p>',
        f"<p>{text.para(4)}</p>",
    ]
    if i % 7 == 0:
        parts.insert(2, HOSTILE)
    main, local = "".join(parts), "".join(parts)
    if image:
        name = f"foto{i}.jpg"
        remote = f"https://api.ning.com/files/Img{i}*x/{name}"
        main += f'<p><a href="{remote}"><img src="{remote}?width=737" alt="foto"></a></p>'
        local += f'<p><a href="blogs/{name}"><img src="blogs/{name}?width=737" alt="foto"></a></p>'
    return main, local


def _groups_and_discussions(
    folder: Path, rng: random.Random, text: _Text, out: GeneratedArchive, names: list[str],
    groups: int, discussions: int, broken: bool, keep_details: bool,
) -> None:  # fmt: skip
    w = _Twins(folder, "groups", rng)
    group_ids: list[str] = []
    for g in range(1, groups + 1):
        gid = f"2570916:Group:{g}"
        group_ids.append(gid)
        owner = names[g % len(names)]
        entries = [{"contributorName": owner, "fullName": "", "status": "owner"}]
        statuses = ["member", "member", "admin", "invited", "banned"]
        for k in range(min(6, len(names))):
            cn = names[(g + k + 1) % len(names)]
            if cn != owner:
                entries.append({"contributorName": cn, "fullName": "", "status": statuses[k % len(statuses)]})
        created = rng.randint(START, END - 86400 * 100)
        wall = [{"id": f"2570916:Comment:g{g}-{n}", "contributorName": names[n % len(names)],
                 "description": f"<p>{text.para(1)}</p>", "createdDate": ning_date(created + 3600 * (n + 1), n % 4)}
                for n in range(3)]  # fmt: skip
        private = g % 2 == 0
        record = {"id": gid, "contributorName": owner, "title": f"Groep {g} &amp; co", "description": text.para(2),
                  "createdDate": ning_date(created, g % 4), "updatedDate": ning_date(created + 60, 0),
                  "groupPrivacy": "private" if private else "public", "members": entries,
                  "comments": list(reversed(wall))}  # fmt: skip
        if keep_details:
            members = {e["contributorName"] for e in entries if e["status"] in ("owner", "member", "admin")}
            out.groups[gid] = (f"Groep {g} & co", private, members)
        w.write(orjson.dumps(record), orjson.dumps(record))
    w.close()
    out.counts["groups"] = groups
    out.broken["groups"] = []

    w = _Twins(folder, "discussions", rng)
    cut_last = broken and discussions >= 2
    for d in range(1, discussions + 1):
        did = f"2570916:Topic:{d}"
        group = group_ids[d % len(group_ids)] if group_ids and d % 2 == 0 else None
        created = rng.randint(START, END - 86400 * 100)
        replies = [{"id": f"2570916:Comment:t{d}-{n}", "contributorName": names[(d + n) % len(names)],
                    "description": f"<p>{text.para(1)}</p>", "createdDate": ning_date(created + 600 * (n + 1), n % 4)}
                   for n in range(d % 4 + 1)]  # fmt: skip
        record = {"id": did, "contributorName": names[d % len(names)], "title": f"Discussie {d}",
                  "description": f"<p>{text.para(2)}</p>", "createdDate": ning_date(created, d % 4),
                  "updatedDate": ning_date(created, 0), "category": "Algemeen", "fileAttachments": [],
                  "comments": list(reversed(replies))}  # fmt: skip
        if group is not None:
            record["groupId"] = group
        data = orjson.dumps(record)
        if cut_last and d == discussions:
            data = data[: len(data) // 2]  # the export was cut off here
        elif keep_details:
            out.discussions[did] = (group, [r["id"] for r in replies])
        w.write(data, data)
    w.close(cut_off=cut_last)
    out.counts["discussions"] = discussions
    out.broken["discussions"] = [discussions] if cut_last else []
