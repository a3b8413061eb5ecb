"""Test helper (not a test): write a realistic Ning archiver export folder, quirks included.

`generate_archive(folder, members=..., posts=..., comments_per_post=..., seed=...)` writes
`ning-members.json`, `ning-blogs.json`, `ning-groups.json`, `ning-discussions.json`,
`ning-events.json`, `ning-photos.json`, `ning-videos.json`, `ning-music.json`, `ning-pages.json` and
`ning-notes.json`, each with its `-local.json` twin (media addresses replaced by paths to files
written beside them), with the real format's quirks:

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
- members' `profileQuestions` (About Me, organisation, function, region, a birth date) and a
  `birthdate` field (which must not be imported);
- comments with their own `fileAttachments`; HTML-escaped titles of events, photos and pages;
  media paths with a `?width=...` query suffix (photos, thumbnails);
- events with their time zones (a naive time in the event's zone, in New York, with `Z`, with an
  offset, an unknown zone), attendees answering attending / might attend / not attending / invited,
  comments, an event without a start (not an event), some in groups (a private one too);
- photos in albums (spread over the file) and alone, with comments, some in a private group, one
  whose file is missing; videos embedded from YouTube and Vimeo (with thumbnails), from another
  player, and one uploaded to the network; music tracks with their mp3;
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
ORGANISATIONS = ["Gemeente Utrecht", "Provincie Zeeland", "Ministerie van BZK", "Waterschap Rijn &amp; IJssel"]
FUNCTIONS = ["Beleidsmedewerker", "Informatieadviseur", "Communicatieadviseur", "Projectleider"]
REGIONS = ["Noord", "Oost", "Randstad", "Zuid"]
# Events: (timeZone field, how the start is written); see _events.
EVENT_ZONES = [
    ("Europe/Amsterdam", "naive"), ("America/New_York", "naive"), (None, "z"), (None, "offset"),
    ("UTC", "naive"), ("Mars/Olympus", "naive"), (None, "naive"),
]  # fmt: skip
ATTENDEE_STATUSES = ["attending", "might attend", "not attending", "invited", "attending", "might_attend"]
ANSWER_OF = {"attending": "going", "might attend": "maybe", "might_attend": "maybe", "not attending": "not_going"}


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
    profiles: dict[str, tuple[str, list[tuple[str, str]]]] = field(default_factory=dict)  # cn -> about, fields
    events: dict[str, ExpectedEvent] = field(default_factory=dict)
    photos: dict[str, ExpectedPhoto] = field(default_factory=dict)
    videos: dict[str, ExpectedVideo] = field(default_factory=dict)
    tracks: dict[str, str] = field(default_factory=dict)  # id -> title
    pages: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # id -> kind, title, comments
    comment_attachments: list[str] = field(default_factory=list)  # paths attached to comments


@dataclass
class ExpectedEvent:
    author: str
    title: str
    starts_at: int
    ends_at: int | None
    location: str
    answers: dict[str, str]  # contributorName -> going | maybe | not_going (invited ones left out)
    comments: list[str]  # ids, oldest first
    group: str | None


@dataclass
class ExpectedPhoto:
    author: str
    title: str
    album: str | None
    group: str | None
    comments: list[str]
    has_file: bool


@dataclass
class ExpectedVideo:
    author: str
    title: str
    link: str | None  # the page it links to (youtube/vimeo/other)
    thumbnail: bool
    upload: bool
    comments: list[str]


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
    events: int = 6,
    photos: int = 14,
    videos: int = 5,
    tracks: int = 2,
    pages: int = 2,
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
        about = f"<p>Ik werk bij {rng.choice(ORGANISATIONS)} aan {rng.choice(WORDS)}.</p>"
        answers = {"About Me": about, "Organisatie": rng.choice(ORGANISATIONS), "Functie": rng.choice(FUNCTIONS),
                   "Regio": rng.choice(REGIONS), "Geboortedatum": "1970-01-0" + str(1 + i % 9)}  # fmt: skip
        if i % 3 == 0:
            answers["Regio"] = "Zuid &amp; West"  # answers come HTML-escaped too
        if i % 4 == 0:
            record["birthdate"] = f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}"
        record["profileQuestions"] = answers
        if keep_details:
            fields = [(q, answers[q].replace("&amp;", "&")) for q in ("Organisatie", "Functie", "Regio")]
            out.profiles[cn] = (about, [*fields, ("Plaats", "Utrecht, NL")])
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
            local_comment = comment
            if i % 10 == 2 and n == 0 and image:  # a comment with its own attachment
                path = f"blogs/comment-{cid.split(':')[-1]}.pdf"
                comment = dict(comment, fileAttachments=[f"https://api.ning.com/files/C{i}/bijlage.pdf"])
                local_comment = dict(comment, fileAttachments=[path + "?download=1"])
                _media(folder, path, b"%PDF-1.4 bijlage", out.media_files)
                out.comment_attachments.append(path)
            raw_comments.append((comment, local_comment))
            expected_comments.append(ExpectedComment(cid, commenter, when))
        # The export lists comments newest first.
        record = {
            "id": pid, "contributorName": author, "title": title, "description": desc_main,
            "createdDate": ning_date(created, i % 4), "updatedDate": ning_date(updated, (i + 1) % 4),
            "publishTime": None if publish_time is None else ning_date(publish_time, 0), "publishStatus": status,
            "category": BLOG_CATEGORIES[i % len(BLOG_CATEGORIES)], "fileAttachments": attachments_main,
            "comments": [c for c, _ in reversed(raw_comments)],
        }  # fmt: skip
        local = dict(record, description=desc_local, fileAttachments=attachments_local,
                     comments=[c for _, c in reversed(raw_comments)])  # fmt: skip
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

    group_ids = _groups_and_discussions(folder, rng, text, out, names, groups, discussions, broken, keep_details)
    _events(folder, rng, text, out, names, group_ids, events, keep_details)
    _photos(folder, rng, text, out, names, group_ids, photos, keep_details)
    _videos(folder, rng, text, out, names, group_ids, videos, keep_details)
    _music(folder, rng, text, out, names, tracks, keep_details)
    _pages(folder, rng, text, out, names, pages, keep_details)
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
) -> list[str]:  # fmt: skip
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
    return group_ids


def _comments_for(rng: random.Random, text: _Text, names: list[str], prefix: str, start: int, n: int
                  ) -> tuple[list[dict[str, Any]], list[str]]:  # fmt: skip
    """n comments, newest first as the export lists them, and their ids oldest first."""
    items = [{"id": f"2570916:Comment:{prefix}-{k}", "contributorName": names[(start + k) % len(names)],
              "description": f"<p>{text.para(1)}</p>", "createdDate": ning_date(start + 3600 * (k + 1), k % 4)}
             for k in range(n)]  # fmt: skip
    return list(reversed(items)), [c["id"] for c in items]


def _events(folder: Path, rng: random.Random, text: _Text, out: GeneratedArchive, names: list[str],
            group_ids: list[str], count: int, keep_details: bool) -> None:  # fmt: skip
    """Events in every time zone style, with answers and comments; the last one has no start."""
    w = _Twins(folder, "events", rng)
    for e in range(1, count + 1):
        eid = f"2570916:Event:{e}"
        zone, style = EVENT_ZONES[e % len(EVENT_ZONES)]
        # 10:00 wall-clock time in the event's zone on a day in 2013 (summer and winter alternate);
        # the first one is still to come (the archive was made ahead of the next Dag van de Ambtenaar)
        day = datetime(2031 if e == 1 else 2013, 3 + (e * 5) % 9, 1 + e % 27, 10, 0)
        tz = ZoneInfo(zone) if zone in ("Europe/Amsterdam", "America/New_York", "UTC") else AMSTERDAM
        starts = int(day.replace(tzinfo=tz).timestamp())
        ends = starts + 3600 * (2 + e % 6)
        if style == "naive":
            start_text, end_text = day.strftime("%Y-%m-%dT%H:%M:%S"), datetime.fromtimestamp(ends, tz).strftime(
                "%Y-%m-%dT%H:%M:%S")  # fmt: skip
        elif style == "z":
            start_text, end_text = ning_date(starts, 0), ning_date(ends, 0)
        else:
            start_text, end_text = ning_date(starts, 1), ning_date(ends, 2)
        author = names[(e * 3) % len(names)]
        attendees = [{"contributorName": names[(e + k) % len(names)], "attendeeStatus": ATTENDEE_STATUSES[k % 6]}
                     for k in range(min(len(names) - 1, 3 + e % 5))]  # fmt: skip
        attendees.append({"contributorName": "0gone0attendee", "attendeeStatus": "attending"})
        comments, comment_ids = _comments_for(rng, text, names, f"e{e}", starts - 86400 * 10, e % 3 + 1)
        group = group_ids[e % len(group_ids)] if group_ids and e % 3 == 0 else None
        title = f"Dag van de Ambtenaar 2.0 &amp; meer {e}"
        record: dict[str, Any] = {
            "id": eid, "contributorName": author, "title": title, "description": f"<p>{text.para(2)}</p>",
            "startDate": start_text, "endDate": end_text, "location": f"Jaarbeurs &amp; zaal {e}",
            "street": "Jaarbeursplein 6", "city": "Utrecht", "organizedBy": "Ambtenaar 2.0",
            "eventType": "Bijeenkomst", "createdDate": ning_date(starts - 86400 * 30, e % 4),
            "attendees": attendees, "comments": comments,
        }  # fmt: skip
        if zone is not None:
            record["timeZone"] = zone
        if group is not None:
            record["groupId"] = group
        local = dict(record)
        if e % 2 == 1:
            record["photoUrl"] = f"https://api.ning.com/files/Ev{e}/flyer.jpg?width=600"
            local["photoUrl"] = f"events/flyer{e}.jpg?width=600"
            _media(folder, f"events/flyer{e}.jpg", b"\xff\xd8\xff\xe0 flyer", out.media_files)
        if e == count and count >= 2:
            del record["startDate"], local["startDate"]  # no start: not an event (reported)
        elif keep_details:
            answers = {a["contributorName"]: ANSWER_OF[a["attendeeStatus"]] for a in attendees
                       if a["attendeeStatus"] in ANSWER_OF}  # fmt: skip
            out.events[eid] = ExpectedEvent(author, title.replace("&amp;", "&"), starts, ends,
                                             f"Jaarbeurs & zaal {e}", answers, comment_ids, group)  # fmt: skip
        w.write(orjson.dumps(record), orjson.dumps(local))
    w.close()
    out.counts["events"] = count


def _photos(folder: Path, rng: random.Random, text: _Text, out: GeneratedArchive, names: list[str],
            group_ids: list[str], count: int, keep_details: bool) -> None:  # fmt: skip
    """Photos: in albums of up to five (spread over the file), every seventh alone; one file missing."""
    w = _Twins(folder, "photos", rng)
    albums = max(1, count // 5)
    private = group_ids[1:2]  # group 2: private (see _groups_and_discussions)
    for n in range(1, count + 1):
        pid = f"2570916:Photo:{n}"
        alone = n % 7 == 0
        album = None if alone else (n % albums) + 1
        author = names[(n * 5) % len(names)] if album is None else names[(album * 5) % len(names)]
        created = START + 86400 * (100 + n)
        comments, comment_ids = _comments_for(rng, text, names, f"p{n}", created, n % 3)
        group = private[0] if private and album == 1 else None
        record: dict[str, Any] = {
            "id": pid, "contributorName": author, "title": f"Foto {n} &quot;buiten&quot;",
            "description": f"<p>{text.para(1)}</p>" if n % 4 else "", "createdDate": ning_date(created, n % 4),
            "photoUrl": f"https://api.ning.com/files/Ph{n}/foto{n}.jpg?width=1024&height=768",
            "comments": comments,
        }  # fmt: skip
        if album is not None:
            record["albumId"] = f"2570916:Album:{album}"
            record["albumTitle"] = f"Album {album} &amp; zo"
        if group is not None:
            record["groupId"] = group
        local = dict(record, photoUrl=f"photos/foto{n}.jpg?width=1024&height=768")
        missing = n == 3
        if not missing:
            _media(folder, f"photos/foto{n}.jpg", b"\xff\xd8\xff\xe0 foto " + str(n).encode(), out.media_files)
        if keep_details:
            album_id = None if album is None else f"2570916:Album:{album}"
            out.photos[pid] = ExpectedPhoto(author, f'Foto {n} "buiten"', album_id, group, comment_ids, not missing)
        w.write(orjson.dumps(record), orjson.dumps(local))
    w.close()
    out.counts["photos"] = count


VIDEO_EMBEDS = [
    ('<iframe width="560" height="315" src="//www.youtube.com/embed/dQw4w9WgXcQ?wmode=opaque"></iframe>',
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ('<iframe src="https://player.vimeo.com/video/76979871?title=0" width="500"></iframe>',
     "https://vimeo.com/76979871"),
    ('<object><param name="movie" value="http://www.youtube.com/v/9bZkp7q19f0&amp;hl=nl"></param></object>',
     "https://www.youtube.com/watch?v=9bZkp7q19f0"),
    ('<iframe src="https://video.example.org/embed/42"></iframe>', "https://video.example.org/embed/42"),
    ("", None),  # uploaded to the network: the file is in the archive
]  # fmt: skip


def _videos(folder: Path, rng: random.Random, text: _Text, out: GeneratedArchive, names: list[str],
            group_ids: list[str], count: int, keep_details: bool) -> None:  # fmt: skip
    w = _Twins(folder, "videos", rng)
    for n in range(1, count + 1):
        vid = f"2570916:Video:{n}"
        embed, link = VIDEO_EMBEDS[(n - 1) % len(VIDEO_EMBEDS)]
        author = names[(n * 11) % len(names)]
        created = START + 86400 * (200 + n)
        comments, comment_ids = _comments_for(rng, text, names, f"v{n}", created, n % 2)
        record: dict[str, Any] = {
            "id": vid, "contributorName": author, "title": f"Video {n}: ambtenaar &amp; web",
            "description": f"<p>{text.para(1)}</p>", "createdDate": ning_date(created, n % 4),
            "embedCode": embed, "thumbnailUrl": f"https://api.ning.com/files/Th{n}/thumb.jpg?width=320",
            "comments": comments,
        }  # fmt: skip
        local = dict(record, thumbnailUrl=f"videos/thumb{n}.jpg?width=320")
        _media(folder, f"videos/thumb{n}.jpg", b"\xff\xd8\xff\xe0 thumb", out.media_files)
        upload = link is None
        if upload:
            record["videoAttachmentUrl"] = f"https://api.ning.com/files/Vi{n}/film.mp4"
            local["videoAttachmentUrl"] = f"videos/film{n}.mp4"
            _media(folder, f"videos/film{n}.mp4", b"\x00\x00\x00\x18ftypmp42 film", out.media_files)
        if keep_details:
            out.videos[vid] = ExpectedVideo(author, f"Video {n}: ambtenaar & web", link, True, upload, comment_ids)
        w.write(orjson.dumps(record), orjson.dumps(local))
    w.close()
    out.counts["videos"] = count


def _music(folder: Path, rng: random.Random, text: _Text, out: GeneratedArchive, names: list[str],
           count: int, keep_details: bool) -> None:  # fmt: skip
    w = _Twins(folder, "music", rng)
    for n in range(1, count + 1):
        tid = f"2570916:Track:{n}"
        record = {"id": tid, "contributorName": names[n % len(names)], "title": f"Lied {n}",
                  "artist": "Het Ambtenarenkoor", "album": "Live in Utrecht",
                  "createdDate": ning_date(START + 86400 * (300 + n), 0),
                  "audioUrl": f"https://api.ning.com/files/Mu{n}/lied.mp3", "comments": []}  # fmt: skip
        local = dict(record, audioUrl=f"music/lied{n}.mp3")
        _media(folder, f"music/lied{n}.mp3", b"ID3\x03 lied " + str(n).encode(), out.media_files)
        if keep_details:
            out.tracks[tid] = f"Lied {n}"
        w.write(orjson.dumps(record), orjson.dumps(local))
    w.close()
    out.counts["music"] = count


def _pages(folder: Path, rng: random.Random, text: _Text, out: GeneratedArchive, names: list[str],
           count: int, keep_details: bool) -> None:  # fmt: skip
    """The network's own pages (about, house rules: the first with comments) and as many notes."""
    titles = ["Over Ambtenaar 2.0", "Huisregels &amp; privacy", "Contact", "Colofon"]
    for kind in ("pages", "notes"):
        w = _Twins(folder, kind, rng)
        for n in range(1, count + 1):
            title = titles[(n - 1) % len(titles)] if kind == "pages" else f"Notitie {n}: wiki &amp; meer"
            record: dict[str, Any] = {"title": title, "contributorName": names[0],
                                      "description": f"<h2>{title}</h2><p>{text.para(3)}</p>",
                                      "createdDate": ning_date(START + 86400 * n, 0),
                                      "updatedDate": ning_date(START + 86400 * (n + 30), 0)}  # fmt: skip
            if kind == "pages":
                record["id"] = f"2570916:Page:{n}"
                record["url"] = f"https://ambtenaar20.ning.com/page/pagina-{n}"
            comments: list[dict[str, Any]] = []
            if kind == "pages" and n == 1:
                comments, _ = _comments_for(rng, text, names, f"pg{n}", START + 86400 * 5, 2)
                record["comments"] = comments
            if keep_details:
                key = record.get("id") or f"notes:{title.replace('&amp;', '&')}"
                out.pages[key] = (kind, title.replace("&amp;", "&"), len(comments))
            w.write(orjson.dumps(record), orjson.dumps(record))
        w.close()
        out.counts[kind] = count
