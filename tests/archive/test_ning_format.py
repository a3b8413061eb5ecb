"""The pure reading side of the Ning archive: repair, records, dates, model, usernames, media, generator."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fediverse_a2.archive.ning_dates import parse_ning_date
from fediverse_a2.archive.ning_fields import NingRecordError
from fediverse_a2.archive.ning_files import find_export, iter_export, resolve_media
from fediverse_a2.archive.ning_groups import parse_discussion, parse_group
from fediverse_a2.archive.ning_html import sanitise_archive_html
from fediverse_a2.archive.ning_json import (
    NingFormatError,
    iter_chunk_records,
    iter_records,
    iter_text_records,
    repair,
)
from fediverse_a2.archive.ning_media import MediaKind, local_path, media_refs, merge_local
from fediverse_a2.archive.ning_model import (
    MemberState,
    PublishStatus,
    Role,
    parse_member,
    parse_post,
    role_for_level,
    state_for,
)
from fediverse_a2.archive.usernames import USERNAME, assign_usernames, base_username
from ning_archive_gen import DST_INSTANTS, generate_archive, ning_date


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()  # type: ignore[misc]


def data_of(text: str) -> list[object]:
    results = list(iter_text_records(text))
    assert all(r.error is None for r in results), [r.error for r in results]
    return [r.data for r in results]


# -- repair, quirk by quirk ------------------------------------------------------------------

TWO = [{"a": 1}, {"a": 2}]
QUIRKS = {
    "wrapping parentheses": '([{"a":1},{"a":2}])',
    "missing comma }{": '[{"a":1}{"a":2}]',
    "]{ (after a newline)": '[{"a":1}\n]{"a":2}]',
    "}]{": '[{"a":1}]{"a":2}]',
    "] { (Pleio's case)": '[{"a":1}] {"a":2}]',
    "}[{": '[{"a":1}[{"a":2}]',
    "trailing extra ]": '[{"a":1},{"a":2}]]',
    "UTF-8 BOM": '\ufeff[{"a":1},{"a":2}]',
}


@pytest.mark.parametrize("text", QUIRKS.values(), ids=QUIRKS.keys())
def test_each_quirk_alone_is_repaired(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)  # the quirk really is invalid JSON
    assert data_of(text) == TWO
    assert json.loads(repair(text)) == TWO


def test_valid_json_reads_unchanged() -> None:
    text = '[{"a":1,"c":[{"x":1},{"x":2}],"d":[[1,2],[]]},{"a":2}]'
    assert data_of(text) == json.loads(text)


def test_all_quirks_combined() -> None:
    text = '\ufeff(\n[{"a":1}{"a":2}]{"a":3}[{"a":4}] {"a":5},\n{"a":6}\n]\n]\n)\n'
    assert data_of(text) == [{"a": n} for n in range(1, 7)]


def test_empty_exports() -> None:
    for text in ("", "()", "[]", "([])", "\ufeff[\n]\n]"):
        assert list(iter_text_records(text)) == []


def test_text_that_is_no_export_is_refused() -> None:
    with pytest.raises(NingFormatError):
        list(iter_text_records("<html>not json</html>"))


TRICKY_VALUES = ["}{", "}]{", "}[{", "]{", "(", ")", "]]", "a\\", 'say "}{"', "\\\\}{", "{[}]", "é ☺"]


@pytest.mark.parametrize("value", TRICKY_VALUES)
def test_quirk_sequences_inside_strings_stay_untouched(value: str) -> None:
    encoded = json.dumps(value, ensure_ascii=False)
    text = f'([{{"t":{encoded},"k":[{encoded}]}}{{"t":{encoded}}}]]) '
    assert data_of(text) == [{"t": value, "k": [value]}, {"t": value}]


def test_unicode_escapes_and_raw_utf8() -> None:
    assert data_of('[{"n":"Jos\\u00e9"}{"n":"José ☺"}]') == [{"n": "José"}, {"n": "José ☺"}]


def test_missing_comma_between_nested_objects_is_repaired_and_flagged() -> None:
    (result,) = iter_text_records('[{"comments":[{"id":1}{"id":2}],"t":"}{"}]')
    assert result.data == {"comments": [{"id": 1}, {"id": 2}], "t": "}{"}
    assert result.repaired


COMBINED = '\ufeff([{"t":"a\\"}{","u":"é☺"}{"t":"\\\\"}]{"t":"x"}[{"t":")(","c":[{"i":1}]}]])'


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_chunk_boundaries_anywhere(size: int) -> None:
    chunks = [COMBINED[i : i + size] for i in range(0, len(COMBINED), size)]
    assert list(iter_chunk_records(chunks)) == list(iter_text_records(COMBINED))
    assert len(list(iter_text_records(COMBINED))) == 4


@pytest.mark.parametrize("size", [1, 2, 5, 4096])
def test_file_reading_splits_bytes_anywhere(tmp_path: Path, size: int) -> None:
    path = tmp_path / "ning-blogs.json"
    path.write_bytes(COMBINED.encode("utf-8"))  # BOM and multi-byte characters cut by small chunks
    assert [r.data for r in iter_records(path, chunk_size=size)] == data_of(COMBINED)


@pytest.mark.parametrize("size", [1, 3, 4096])
def test_bytes_that_are_not_utf8_are_read_as_windows_1252(tmp_path: Path, size: int) -> None:
    path = tmp_path / "ning-members.json"
    path.write_bytes(b'[{"n":"Zo\xc3\xab"},{"n":"Jos\xe9 \x93quoted\x94"},{"n":"Zo\xc3\xab \xe2\x98\xba"}]')
    assert [r.data for r in iter_records(path, chunk_size=size)] == [
        {"n": "Zoë"},
        {"n": "José \u201cquoted\u201d"},
        {"n": "Zoë \u263a"},  # UTF-8 after the first stray byte still reads as UTF-8
    ]


def test_line_numbers_of_records() -> None:
    results = list(iter_text_records('[\n{"a":1},\n\n{"a":\n2},{"a":3}]'))
    assert [r.line for r in results] == [2, 4, 5]


# -- broken records ----------------------------------------------------------------------------


def rec(n: int) -> str:
    return json.dumps({"id": str(n), "contributorName": "x", "title": f"t{n}", "description": "}{"})


def test_balanced_broken_record_is_reported_by_number_and_skipped() -> None:
    text = "(" + "[" + rec(1) + '{"id":"2","title": undefined}' + rec(3) + "]])"
    results = list(iter_text_records(text))
    assert [r.index for r in results] == [1, 2, 3]
    assert results[1].data is None and "Expecting value" in (results[1].error or "")
    assert [r.data["id"] for r in results if r.data] == ["1", "3"]


def test_two_broken_records_in_a_row_are_reported_separately() -> None:
    text = "[" + rec(1) + ',{"id":"2" "title":"x"},{"id":"3","title":NaNa},' + rec(4) + "]"
    results = list(iter_text_records(text))
    assert [(r.index, r.data is None) for r in results] == [(1, False), (2, True), (3, True), (4, False)]


def test_unbalanced_record_does_not_swallow_the_records_after_it() -> None:
    cut = rec(2)[: rec(2).index('"title"') + 12]  # ends inside a string: its quotes do not balance
    text = "[" + rec(1) + "," + cut + rec(3) + "]" + rec(4) + "]"
    results = list(iter_text_records(text))
    assert [r.index for r in results] == [1, 2, 3, 4]
    assert results[1].data is None and "Unterminated string" in (results[1].error or "")
    assert [r.data["id"] for r in results if r.data] == ["1", "3", "4"]


def test_record_cut_off_at_the_end_of_the_file() -> None:
    results = list(iter_text_records("([" + rec(1) + "," + rec(2)[:30]))
    assert results[0].data is not None
    assert results[1].index == 2 and results[1].data is None and "never ends" in (results[1].error or "")


def test_values_that_are_not_records_are_reported() -> None:
    results = list(iter_text_records('[{"a":1},null,"text with { in it",42,{"a":2}]'))
    assert [(r.index, r.data) for r in results] == [(1, {"a": 1}), (2, None), (3, None), (4, None), (5, {"a": 2})]
    assert results[1].error == "not a record: 'null'"


# -- dates -------------------------------------------------------------------------------------

DATES = [
    ("2013-12-16T13:34:00.000Z", utc(2013, 12, 16, 13, 34)),
    ("2013-12-16T13:34:00Z", utc(2013, 12, 16, 13, 34)),
    ("2013-12-16T14:34:00+01:00", utc(2013, 12, 16, 13, 34)),
    ("2013-12-16T14:34:00+0100", utc(2013, 12, 16, 13, 34)),
    ("2013-07-16T14:34:00+02", utc(2013, 7, 16, 12, 34)),
    ("2013-07-16T08:34:00-04:00", utc(2013, 7, 16, 12, 34)),
    ("2013-12-16 14:34:00", utc(2013, 12, 16, 13, 34)),  # naive winter: CET
    ("2013-07-16T14:34:00", utc(2013, 7, 16, 12, 34)),  # naive summer: CEST
    ("2014-03-30T02:30:00", utc(2014, 3, 30, 1, 30)),  # in the spring gap: read with the winter offset
    ("2014-10-26T02:30:00", utc(2014, 10, 26, 0, 30)),  # twice that night: the first (summer) one
    ("2014-10-26T02:30:00+01:00", utc(2014, 10, 26, 1, 30)),  # the second, made explicit
    ("2014-07-01", utc(2014, 6, 30, 22, 0)),
    ("2013-12-16T13:34:00.250Z", utc(2013, 12, 16, 13, 34) + 0.25),
    (1387200840, utc(2013, 12, 16, 13, 34)),
    (1387200840000, utc(2013, 12, 16, 13, 34)),
    ("1387200840", utc(2013, 12, 16, 13, 34)),
]


@pytest.mark.parametrize(("value", "expected"), DATES)
def test_dates(value: object, expected: float) -> None:
    assert parse_ning_date(value) == expected


@pytest.mark.parametrize(
    "value", ["2014-02-30T10:00:00Z", "2014-01-01T25:00:00Z", "gisteren", "", None, True, "+25:00"]
)
def test_unreadable_dates(value: object) -> None:
    assert parse_ning_date(value) is None


@pytest.mark.parametrize("style", range(4))
def test_generator_dates_round_trip_across_dst(style: int) -> None:
    for epoch in [*DST_INSTANTS, int(utc(2009, 1, 5, 12)), int(utc(2012, 8, 1, 23, 59))]:
        assert parse_ning_date(ning_date(epoch, style)) == epoch


# -- model: members, posts, comments -------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "role"),
    [
        ("owner", Role.ADMIN), ("admin", Role.ADMIN), ("Admin", Role.ADMIN), ("moderator", Role.MODERATOR),
        ("member", Role.MEMBER), ("", Role.MEMBER), (None, Role.MEMBER), ("member admin", Role.ADMIN),
        ("moderator owner", Role.ADMIN), ("superhero", Role.MEMBER),
    ],
)  # fmt: skip
def test_role_from_level(level: str | None, role: Role) -> None:
    assert role_for_level(level) is role


@pytest.mark.parametrize(
    ("state", "expected", "can_sign_in"),
    [
        ("active", MemberState.ACTIVE, True), ("suspended", MemberState.SUSPENDED, False),
        ("left", MemberState.LEFT, False), ("pending", MemberState.PENDING, False),
        ("Suspended", MemberState.SUSPENDED, False), ("blocked", MemberState.SUSPENDED, False),
        (None, MemberState.ACTIVE, True), ("unfinished", MemberState.PENDING, False),
        ("weird", MemberState.PENDING, False),
    ],
)  # fmt: skip
def test_state_mapping(state: str | None, expected: MemberState, can_sign_in: bool) -> None:
    assert state_for(state) is expected
    member = parse_member({"contributorName": "x1", "state": state})
    assert member.state is expected and member.can_sign_in is can_sign_in
    assert member.archive_author_only is (expected is MemberState.LEFT)


def test_member_fields() -> None:
    member = parse_member(
        {
            "contributorName": "3ixs6bzjxfkv6", "fullName": "Jansen &amp; Zn.", "email": "geheim@example.nl",
            "createdDate": "2009-05-13T09:16:14.612Z", "profilePhoto": "members/3ixs6bzjxfkv6.jpg?width=184",
            "level": "owner", "state": "active", "gender": "m",
        }
    )  # fmt: skip
    assert member.full_name == "Jansen & Zn."
    assert member.joined == utc(2009, 5, 13, 9, 16, 14) + 0.612
    assert member.role is Role.ADMIN and member.email == "geheim@example.nl"
    assert "geheim" not in repr(member)  # kept for invitations, never shown
    assert member.extra_fields == ("gender",)
    with pytest.raises(NingRecordError):
        parse_member({"fullName": "Zonder sleutel"})


def comment(cid: str, when: str | None, who: str = "a1") -> dict[str, object]:
    return {"id": cid, "contributorName": who, "description": f"<p>{cid}</p>", "createdDate": when}


def test_comments_come_back_oldest_first_stable_for_equal_dates() -> None:
    newest_first = [
        comment("c4", "2013-01-03T10:00:00Z"),
        comment("c3", "2013-01-02T10:00:00Z"),  # same instant as c2, written after it
        comment("c2", "2013-01-02T11:00:00+01:00"),
        comment("c1", "2013-01-01T10:00:00Z"),
    ]
    post = parse_post({"id": "p", "contributorName": "a", "comments": newest_first})
    assert [c.id for c in post.comments] == ["c1", "c2", "c3", "c4"]


def test_comments_out_of_order_and_undated() -> None:
    items = [
        comment("late", "2013-05-01T00:00:00Z"),
        comment("undated", None),
        comment("early", "2013-01-01T00:00:00Z"),
        comment("middle", "2013-03-01T00:00:00Z"),
    ]
    post = parse_post({"id": "p", "contributorName": "a", "comments": items})
    # Oldest first by date; the undated one stays right after the comment the export put before it
    # (read oldest first: middle, early, undated, late), so it follows "early".
    assert [c.id for c in post.comments] == ["early", "undated", "middle", "late"]


@pytest.mark.parametrize(
    ("status", "publish_time", "expected", "draft"),
    [
        ("publish", "2013-01-01T10:00:00Z", PublishStatus.PUBLISHED, False),
        ("draft", None, PublishStatus.DRAFT, True),
        ("queued", "2015-01-01T10:00:00Z", PublishStatus.QUEUED, True),
        (None, "2013-01-01T10:00:00Z", PublishStatus.PUBLISHED, False),
        (None, None, PublishStatus.DRAFT, True),
        ("archived", None, PublishStatus.DRAFT, True),
    ],
)
def test_publish_status(status: str | None, publish_time: str | None, expected: PublishStatus, draft: bool) -> None:
    post = parse_post({"id": "p", "contributorName": "a", "publishStatus": status, "publishTime": publish_time,
                       "createdDate": "2012-12-31T10:00:00Z"})  # fmt: skip
    assert post.status is expected and post.is_draft is draft
    assert post.published == (parse_ning_date(publish_time) if publish_time else utc(2012, 12, 31, 10))


def test_post_fields() -> None:
    post = parse_post(
        {
            "id": "2570916:BlogPost:1", "contributorName": "a1", "title": "Open data &amp; meer",
            "description": "<p>x</p>",
            "createdDate": "2013-03-31T01:30:00.000Z", "updatedDate": "2013-04-01T12:00:00+02:00",
            "publishTime": "2013-03-31T03:31:00+02:00", "publishStatus": "publish", "category": "Uncategorized",
            "fileAttachments": ["blogs/a.pdf", {"url": "blogs/b.pdf"}], "tags": ["x"],
        }
    )  # fmt: skip
    assert post.title == "Open data & meer"
    assert (post.created, post.updated, post.published) == (
        utc(2013, 3, 31, 1, 30),
        utc(2013, 4, 1, 10),
        utc(2013, 3, 31, 1, 31),
    )
    assert post.category is None and post.file_attachments == ("blogs/a.pdf", "blogs/b.pdf")
    assert post.extra_fields == ("tags",)
    assert parse_post({"id": "p", "category": "Innovatie"}).category == "Innovatie"


def test_post_without_id_gets_a_stable_synthetic_one() -> None:
    record = {"contributorName": "a", "title": "t", "comments": [{"description": "x"}]}
    first, second = parse_post(record), parse_post(dict(reversed(list(record.items()))))
    assert first.id == second.id and first.id.startswith("noid:blog:")
    assert first.comments[0].id == f"{first.id}#comment-1" and first.warnings


# -- groups and discussions ------------------------------------------------------------------


def test_group_and_its_members() -> None:
    group = parse_group(
        {
            "id": "2570916:Group:7", "contributorName": "o1", "title": "Open &amp; data", "groupPrivacy": "private",
            "members": [
                {"contributorName": "o1", "fullName": "Eigenaar", "status": "owner"},
                {"contributorName": "m1", "fullName": "Lid", "status": "member"},
                {"contributorName": "m1", "fullName": "Lid", "status": "member"},
                {"contributorName": "i1", "fullName": "Uitgenodigd", "status": "invited"},
                {"contributorName": "b1", "fullName": "Geweerd", "status": "banned"},
            ],
            "comments": [comment("w2", "2013-01-02T00:00:00Z"), comment("w1", "2013-01-01T00:00:00Z")],
        }
    )  # fmt: skip
    assert group.title == "Open & data" and group.is_private
    assert [m.contributor_name for m in group.members if m.is_member] == ["o1", "m1"]
    assert [m.contributor_name for m in group.members if m.is_admin] == ["o1"]
    assert [c.id for c in group.comments] == ["w1", "w2"]
    assert not parse_group({"id": "g", "isPrivate": False}).is_private
    assert parse_group({"id": "g", "isPrivate": "Y"}).is_private


def test_discussion_in_a_group_with_replies() -> None:
    discussion = parse_discussion(
        {"id": "2570916:Topic:1", "contributorName": "a", "title": "Vraag", "groupId": "2570916:Group:7",
         "category": "Uncategorized",
         "comments": [comment("r2", "2013-01-02T00:00:00Z"), comment("r1", "2013-01-01T00:00:00Z")]}
    )  # fmt: skip
    assert discussion.group_id == "2570916:Group:7" and discussion.category is None
    assert [c.id for c in discussion.comments] == ["r1", "r2"]
    assert parse_discussion({"id": "t", "category": "Algemeen"}).group_id is None


# -- usernames ---------------------------------------------------------------------------------


def test_username_examples() -> None:
    names = assign_usernames(
        [("a1", "Jan de Vries"), ("a2", "Jan de Vries"), ("a3", "Jan-de Vries"), ("b", "José Ruíz"),
         ("c", "李小龙"), ("d", "Admin"), ("e", "Ærøskøbing Straße Łódź"), ("f", None), ("g", "—")]
    )  # fmt: skip
    assert names["b"] == "jose_ruiz"
    assert names["e"] == "aeroskobing_strasse_lodz"
    assert names["c"] == "c" and names["f"] == "f" and names["g"] == "g"  # nothing Latin: the contributorName
    for key in ("a1", "a2", "a3"):
        assert names[key].startswith("jan_de_vries_") and len(names[key]) == len("jan_de_vries_") + 4
    assert len({names["a1"], names["a2"], names["a3"]}) == 3
    assert names["d"].startswith("admin_")  # reserved names are never given plainly


def test_usernames_are_valid_unique_and_short() -> None:
    rng = random.Random(5)
    members = [(f"{rng.randint(0, 3)}{rng.getrandbits(40):x}", rng.choice(["Jan de Vries", "x" * 80, "Zoë", "", "李"]))
               for _ in range(300)]  # fmt: skip
    names = assign_usernames(members)
    assert len(names) == len({cn for cn, _ in members})
    assert len(set(names.values())) == len(names)
    assert all(USERNAME.fullmatch(n) for n in names.values())


def test_usernames_do_not_depend_on_order() -> None:
    rng = random.Random(7)
    members = [
        (f"cn{i:04d}", f"{rng.choice(['Jan', 'Zoë', 'Henk'])} {rng.choice(['de Vries', 'Smit'])}") for i in range(200)
    ]
    members += [("cn0001", "Jan de Vries"), ("cn0002", "")]  # the same member twice
    expected = assign_usernames(members)
    for seed in range(5):
        shuffled = members[:]
        random.Random(seed).shuffle(shuffled)
        assert assign_usernames(shuffled) == expected


def test_a_new_member_leaves_unrelated_usernames_alone() -> None:
    before = assign_usernames([("a", "Anouk Smit"), ("b", "Kees Visser"), ("c", "Kees Visser")])
    after = assign_usernames([("a", "Anouk Smit"), ("b", "Kees Visser"), ("c", "Kees Visser"), ("d", "Zoë Bakker")])
    assert {k: after[k] for k in before} == before


def test_taken_names_and_base() -> None:
    names = assign_usernames([("a", "Anouk Smit")], taken=["Anouk_Smit"])
    assert names["a"].startswith("anouk_smit_")
    assert base_username("x", "   ") == "x"
    assert len(base_username("x", "Heel " * 20)) <= 24


# -- media and the -local twins ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("blogs/foto.jpg?width=737&height=552", "blogs/foto.jpg"), ("./members/x.jpg", "members/x.jpg"),
        ("members//x.jpg#top", "members/x.jpg"), ("../x.jpg", None), ("members/../../etc/passwd", None),
        ("/etc/passwd", None), ("C:\\boot.ini", None), ("c:boot.ini", None), ("a\\b.jpg", None),
        ("https://api.ning.com/files/x/y.jpg", None), ("~/x", None), ("x\x00.jpg", None), ("", None), (None, None),
    ],
)  # fmt: skip
def test_local_path(value: str | None, expected: str | None) -> None:
    assert local_path(value) == expected


def test_merge_local_takes_media_from_the_twin_and_text_from_the_main_file() -> None:
    main = {"id": "p1", "title": "Titel", "description": '<img src="https://api.ning.com/files/A/x.jpg">',
            "fileAttachments": ["https://api.ning.com/files/B/v.pdf"],
            "comments": [{"id": "c1", "description": "tekst",
                          "fileAttachments": ["https://api.ning.com/files/C/z.doc"]}]}  # fmt: skip
    local = {"id": "p1", "title": "anders", "description": '<img src="blogs/x.jpg?width=5">',
             "fileAttachments": ["blogs/v.pdf"],
             "comments": [{"id": "c1", "description": "tekst", "fileAttachments": ["blogs/z.doc"]}]}  # fmt: skip
    merged = merge_local(main, local)
    assert merged["title"] == "Titel"
    assert merged["description"] == local["description"] and merged["fileAttachments"] == ["blogs/v.pdf"]
    assert merged["comments"][0]["fileAttachments"] == ["blogs/z.doc"]
    assert merge_local(main, dict(local, id="p2")) == main  # not its twin


def test_media_refs_of_members_and_posts() -> None:
    member = parse_member({"contributorName": "m1", "profilePhoto": "members/m1.jpg?crop=1%3A1"})
    assert [(r.kind, r.path) for r in media_refs(member)] == [(MediaKind.PROFILE_PHOTO, "members/m1.jpg")]
    post = parse_post(
        {"id": "p1", "contributorName": "m1",
         "description": '<p><a href="blogs/big.jpg"><img src="blogs/big.jpg?width=737"></a>'
                        '<a href="https://www.pleio.nl/">Pleio</a><img src=\'https://api.ning.com/files/R/r.png\'></p>',
         "fileAttachments": ["blogs/verslag.pdf", "../../etc/passwd"],
         "comments": [{"id": "c1", "contributorName": "m2", "description": "<img src=blogs/c.gif>",
                       "fileAttachments": ["blogs/c.doc"]}]}
    )  # fmt: skip
    refs = [(r.kind, r.path, r.owner) for r in media_refs(post)]
    assert refs == [
        (MediaKind.LINK, "blogs/big.jpg", "p1"),
        (MediaKind.IMAGE, "blogs/big.jpg", "p1"),
        (MediaKind.IMAGE, None, "p1"),  # remote: nothing to copy
        (MediaKind.ATTACHMENT, "blogs/verslag.pdf", "p1"),
        (MediaKind.ATTACHMENT, None, "p1"),  # unsafe: never copied
        (MediaKind.IMAGE, "blogs/c.gif", "c1"),
        (MediaKind.ATTACHMENT, "blogs/c.doc", "c1"),
    ]


def test_resolve_media_stays_inside_the_export(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "blogs").mkdir(parents=True)
    (export / "blogs" / "a.jpg").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("geheim")
    (export / "blogs" / "link.jpg").symlink_to(tmp_path / "secret.txt")
    assert resolve_media(export, "blogs/a.jpg?width=5") == (export / "blogs" / "a.jpg").resolve()
    assert resolve_media(export, "blogs/link.jpg") is None
    assert resolve_media(export, "blogs/missing.jpg") is None
    assert resolve_media(export, "../secret.txt") is None


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_twins_fall_back_on_each_other(tmp_path: Path) -> None:
    write(tmp_path / "ning-blogs.json", '([{"id":"1","p":"http://a"}{"id":"2" "p":"http://b"}{"id":"3"}])')
    write(
        tmp_path / "ning-blogs-local.json", '([{"id":"1","fileAttachments":["blogs/a"]}{"id":"2"}{"id":"3"}{"id":"4"}])'
    )
    write(tmp_path / "ning-events.json", "[]")
    assert sorted(find_export(tmp_path)) == ["blogs", "events"]
    results = list(iter_export(tmp_path, "blogs"))
    assert [(r.index, r.data) for r in results] == [
        (1, {"id": "1", "p": "http://a", "fileAttachments": ["blogs/a"]}),
        (2, {"id": "2"}),
        (3, {"id": "3"}),
        (4, {"id": "4"}),
    ]
    assert results[1].note and "-local twin" in results[1].note
    assert results[3].note == "only in the -local twin"


def test_twins_out_of_step_use_the_main_file(tmp_path: Path) -> None:
    write(tmp_path / "ning-members.json", '[{"contributorName":"a"},{"contributorName":"b"},{"contributorName":"c"}]')
    write(
        tmp_path / "ning-members-local.json",
        '[{"contributorName":"a","profilePhoto":"members/a.jpg"},{"contributorName":"c"}]',
    )
    results = list(iter_export(tmp_path, "members"))
    assert [r.data for r in results] == [
        {"contributorName": "a", "profilePhoto": "members/a.jpg"},
        {"contributorName": "b"},
        {"contributorName": "c"},
    ]
    assert results[1].note and "out of step" in results[1].note


# -- sanitising --------------------------------------------------------------------------------


def test_sanitiser_keeps_structure_and_drops_hostile_markup() -> None:
    dirty = (
        '<p style="color:red" onclick="x()">Tekst <strong>vet</strong></p><ul><li>een</li></ul>'
        '<script>alert(1)</script><img src="x.jpg" onerror="alert(1)"><a href="javascript:alert(1)">j</a>'
        '<img src="data:image/png;base64,AAAA"><iframe src="//www.youtube.com/embed/abc"></iframe>'
        '<a href="https://example.nl/?a=1&amp;b=2">ok</a><table><tr><td colspan="2">cel</td></tr></table>'
    )
    clean = sanitise_archive_html(dirty)
    for bad in ("script", "alert", "onclick", "onerror", "style=", "javascript:", "data:", "iframe"):
        assert bad not in clean
    for good in ("<p>Tekst <strong>vet</strong></p>", "<ul><li>een</li></ul>", '<img src="x.jpg" alt="">',
                 'href="https://www.youtube.com/embed/abc"', 'href="https://example.nl/?a=1&amp;b=2"',
                 '<td colspan="2">'):  # fmt: skip
        assert good in clean


def test_images_take_their_description_from_the_archive() -> None:
    html = (
        '<p><img src="a.jpg" title="Het stadhuis van Zwolle"></p>'
        '<figure class="image"><img src="b.jpg"><figcaption>De <b>raad</b> vergadert</figcaption></figure>'
        '<img src="c.jpg" alt="Eigen beschrijving" title="Titel">'
        '<figure><img src="d.jpg"><img src="e.jpg"><figcaption>Twee foto\'s</figcaption></figure>'
        '<img src="f.jpg">'
    )
    clean = sanitise_archive_html(html)
    assert '<img src="a.jpg" title="Het stadhuis van Zwolle" alt="Het stadhuis van Zwolle">' in clean
    assert '<img src="b.jpg" alt="De raad vergadert">' in clean  # the caption, as plain text
    assert '<img src="c.jpg" alt="Eigen beschrijving" title="Titel">' in clean  # a description stays
    # A caption under two images describes neither; an image without anything gets an empty alt
    # (its author describes it later on /settings/images).
    for name in ("d", "e", "f"):
        assert f'<img src="{name}.jpg" alt="">' in clean


def test_sanitiser_rewrites_media_urls() -> None:
    html = '<a href="blogs/big.jpg"><img src="blogs/big.jpg?width=5"></a><img src="https://api.ning.com/files/x.png">'
    seen: list[tuple[str, str]] = []

    def rewrite(tag: str, url: str) -> str | None:
        seen.append((tag, url))
        return None if url.startswith("https://api.ning.com") else "https://a2.example/media/" + url.split("?")[0]

    clean = sanitise_archive_html(html, rewrite_url=rewrite)
    assert ("img", "blogs/big.jpg?width=5") in seen
    assert clean.count("https://a2.example/media/blogs/big.jpg") == 2 and "api.ning.com" not in clean

    def broken(tag: str, url: str) -> str | None:
        raise LookupError(url)

    with pytest.raises(LookupError):
        sanitise_archive_html(html, rewrite_url=broken)


# -- the generated archive, end to end ---------------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return generate_archive(tmp_path_factory.mktemp("ning") / "export", members=40, posts=30, comments_per_post=4)


def test_generated_files_carry_the_quirks(archive) -> None:  # type: ignore[no-untyped-def]
    raw = (archive.folder / "ning-blogs.json").read_bytes()
    for quirk in (b"([", b"}{", b"}]{", b"}[{", b"}] {", b"]\n]\n)"):
        assert quirk in raw
    assert (archive.folder / "ning-members.json").read_bytes().startswith(b"\xef\xbb\xbf([")
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


def test_broken_records_are_reported_by_number_and_the_rest_is_read(archive) -> None:  # type: ignore[no-untyped-def]
    for kind in ("members", "blogs", "groups", "discussions"):
        results = list(iter_export(archive.folder, kind))
        assert [r.index for r in results] == list(range(1, archive.counts[kind] + 1))
        assert [r.index for r in results if r.data is None] == archive.broken[kind]
        assert all(r.error for r in results if r.data is None)
    assert archive.broken == {"members": [3], "blogs": [5, 8], "groups": [], "discussions": [6]}


def test_generated_members(archive) -> None:  # type: ignore[no-untyped-def]
    members = [parse_member(r.data) for r in iter_export(archive.folder, "members") if r.data]
    assert {m.contributor_name: (m.full_name, m.state.value, m.level, m.joined) for m in members} == archive.members
    assert {m.state for m in members} == set(MemberState)
    assert {m.role for m in members} == set(Role)
    usernames = assign_usernames((m.contributor_name, m.full_name) for m in members)
    assert len(set(usernames.values())) == len(members) and all(USERNAME.fullmatch(u) for u in usernames.values())
    photos = [r for m in members for r in media_refs(m)]
    assert photos and all(resolve_media(archive.folder, r.source) is not None for r in photos)


def test_generated_posts(archive) -> None:  # type: ignore[no-untyped-def]
    posts = {p.id: p for p in (parse_post(r.data) for r in iter_export(archive.folder, "blogs") if r.data)}
    assert posts.keys() == archive.posts.keys()
    for pid, expected in archive.posts.items():
        post = posts[pid]
        assert (post.contributor_name, post.title, post.status.value) == (
            expected.author,
            expected.title,
            expected.status,
        )
        assert (post.published, post.updated, post.category) == (
            expected.published,
            expected.updated,
            expected.category,
        )
        assert [(c.id, c.contributor_name, c.created) for c in post.comments] == [
            (c.id, c.author, c.created) for c in expected.comments
        ]
        refs = media_refs(post)
        attachments = [r for r in refs if r.kind is MediaKind.ATTACHMENT]
        assert len(attachments) == expected.attachments
        assert sum(r.path is None for r in attachments) == expected.unsafe_attachments
        for ref in refs:
            # Every file the -local twin names is there; the hostile <img src="x"> names none.
            if ref.path is not None and ref.path.startswith("blogs/"):
                assert resolve_media(archive.folder, ref.source) is not None, ref
            elif ref.path is not None:
                assert ref.source == "x" and resolve_media(archive.folder, ref.source) is None
        clean = sanitise_archive_html(post.description)
        assert "<script" not in clean and "onerror" not in clean and "javascript:" not in clean
        assert "<ul><li>" in clean
    assert any(p.is_draft for p in posts.values()) and any(p.status is PublishStatus.QUEUED for p in posts.values())
    assert "Wat nu? }{ of }]{ of }[{ (echt) 3" in {p.title for p in posts.values()}


def test_generated_groups_and_discussions(archive) -> None:  # type: ignore[no-untyped-def]
    groups = [parse_group(r.data) for r in iter_export(archive.folder, "groups") if r.data]
    assert {g.id: (g.title, g.is_private, {m.contributor_name for m in g.members if m.is_member}) for g in groups} == (
        archive.groups
    )
    discussions = [parse_discussion(r.data) for r in iter_export(archive.folder, "discussions") if r.data]
    assert {d.id: (d.group_id, [c.id for c in d.comments]) for d in discussions} == archive.discussions
