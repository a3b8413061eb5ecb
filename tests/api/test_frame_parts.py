"""The API frame's pure parts: ids (accounts, time-ordered statuses), paging, entities' shapes,
and parameters read from real Starlette requests in every encoding apps send."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.requests import Request

from fediverse_a2.api import entities
from fediverse_a2.api.ids import (
    REMOTE_BASE,
    AccountRef,
    StatusKind,
    member_account_id,
    parse_account_id,
    parse_status_id,
    remote_account_id,
    status_id,
)
from fediverse_a2.api.paging import Page
from fediverse_a2.api.params import ParamError, Params, read_params


def test_account_ids() -> None:
    assert parse_account_id(member_account_id(7)) == AccountRef(member_id=7)
    assert parse_account_id(remote_account_id(7)) == AccountRef(remote_id=7)
    assert int(remote_account_id(1)) == REMOTE_BASE + 1
    for bad in ("", "0", "-1", "abc", "1e3", "9" * 20, " 7"):
        assert parse_account_id(bad) is None, bad


def test_status_ids_name_one_row_and_sort_by_time() -> None:
    older = status_id(StatusKind.COMMENT, 999_999, 1_700_000_000.9)
    newer = status_id(StatusKind.POST, 1, 1_700_000_001.0)
    assert int(older) < int(newer)
    ref = parse_status_id(older)
    assert ref is not None and (ref.kind, ref.row_id, ref.second) == (StatusKind.COMMENT, 999_999, 1_700_000_000)
    assert parse_status_id(status_id(StatusKind.REMOTE, 5, -10)).kind == StatusKind.REMOTE  # type: ignore[union-attr]
    assert parse_status_id(status_id(StatusKind.NOTE, 7, 1)).kind == StatusKind.NOTE  # type: ignore[union-attr]
    for bad in ("0", "x", str((7 << 29) | 1), str(1 << 29)):  # kind 7 does not exist, row 0 neither
        assert parse_status_id(bad) is None
    with pytest.raises(ValueError):
        status_id(StatusKind.POST, 1 << 29, 0)


def test_paging_bounds_and_order() -> None:
    items = list(range(1, 11))
    assert Page.of(Params([])).select(items, key=int) == list(range(10, 0, -1))
    assert Page.of(Params([("limit", "3")])).select(items, key=int) == [10, 9, 8]
    assert Page.of(Params([("max_id", "8"), ("limit", "2")])).select(items, key=int) == [7, 6]
    assert Page.of(Params([("since_id", "5"), ("limit", "2")])).select(items, key=int) == [10, 9]
    assert Page.of(Params([("min_id", "5"), ("limit", "2")])).select(items, key=int) == [7, 6]
    assert Page.of(Params([("limit", "1000")])).limit == 40 and Page.of(Params([("limit", "0")])).limit == 1
    assert Page.of(Params([("max_id", "abc")])).max_id is None
    with pytest.raises(ParamError):
        Page.of(Params([("limit", "many")]))


def _request(body: bytes, content_type: str | None, query: str = "", method: str = "POST") -> Request:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": method, "path": "/", "query_string": query.encode(), "headers": headers}
    return Request(scope, receive)


async def test_params_from_every_encoding() -> None:
    as_json = await read_params(_request(json.dumps({
        "types": ["mention", "follow"], "fields_attributes": [{"name": "a", "value": "1"}, {"name": "b"}],
        "sensitive": True, "source": {"privacy": "public"}, "in_reply_to_id": None,
    }).encode(), "application/json", "limit=5"), 10_000)  # fmt: skip
    assert as_json.strings("types") == ["mention", "follow"]
    assert as_json.indexed("fields_attributes") == [{"name": "a", "value": "1"}, {"name": "b"}]
    assert as_json.flag("sensitive") and as_json.get("source[privacy]") == "public"
    assert as_json.get("in_reply_to_id") is None and as_json.integer("limit") == 5

    form = "types[]=mention&fields_attributes[1][name]=b&fields_attributes[0][name]=a&sensitive=0"
    for kind in ("application/x-www-form-urlencoded", None):  # None: Ice Cubes sends no Content-Type
        params = await read_params(_request(form.encode(), kind), 10_000)
        assert params.strings("types") == ["mention"] and not params.flag("sensitive", default=True)
        assert [f["name"] for f in params.indexed("fields_attributes")] == ["a", "b"]

    for body, kind, status in ((b"[1]", "application/json", 400), (b"{", "application/json", 400),
                               (b"x" * 100, "application/json", 413), (b"a=1", "text/plain", 415)):  # fmt: skip
        with pytest.raises(ParamError) as refused:
            await read_params(_request(body, kind), 50)
        assert refused.value.status == status
    deep: Any = "x"
    for _ in range(10):
        deep = {"a": deep}
    with pytest.raises(ParamError):
        await read_params(_request(json.dumps(deep).encode(), "application/json"), 10_000)


def test_entities_have_mastodons_fields() -> None:
    view = entities.AccountView(id="1", username="a", acct="a", url="u", uri="u", display_name="A", note="",
                                avatar="av", header="h", created_at=0.0)  # fmt: skip
    account = entities.account(view)
    for name in ("id", "username", "acct", "display_name", "locked", "bot", "group", "created_at", "note", "url",
                 "avatar", "avatar_static", "header", "header_static", "followers_count", "following_count",
                 "statuses_count", "last_status_at", "emojis", "fields", "discoverable"):  # fmt: skip
        assert name in account, name
    assert account["created_at"] == "1970-01-01T00:00:00.000Z"
    status = entities.status(entities.StatusView(id="9", uri="u", url=None, account=account, content="<p>x</p>",
                                                 created_at=1.5))  # fmt: skip
    assert status["created_at"] == "1970-01-01T00:00:01.500Z" and status["reblog"] is None
    assert status["media_attachments"] == [] and status["visibility"] == "public"
    note = entities.notification("3", "mention", 0.0, account, status)
    assert note["type"] == "mention" and note["status"]["id"] == "9"
    assert entities.plain_to_html("a\nb\n\nc <d>") == "<p>a<br>b</p><p>c &lt;d&gt;</p>"
