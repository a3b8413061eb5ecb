"""federation.jsonld_worker: pyld off the event loop, under a size and a time budget."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from fediverse_a2.activitypub.jsonld import AS_URL, NormaliseError, is_compact_as2, normalise
from fediverse_a2.activitypub.parse import parse_activity, parse_note
from fediverse_a2.federation.jsonld_worker import JsonLdBudgetExceeded, JsonLdWorker, count_nodes
from helpers import FIXTURES

PAYLOADS = FIXTURES / "payloads"
BUDGET = 0.5  # seconds; the expensive document below takes pyld about ten times as long


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def expensive_document() -> dict[str, Any]:
    """Small (about 100 kB, 2,800 JSON nodes) but slow for pyld: about 5 s on this machine.

    pyld applies a context URL's whole document (about 150 term definitions for
    ActivityStreams) each time it is listed, about 2 ms per listing, and nothing stops a
    peer from listing it again and again: here 40 times at the top and 50 times in each of
    50 tags (more than 32 entries also keeps the document off the fast path).
    """
    tags = [{"@context": [AS_URL] * 50, "type": "Hashtag", "name": f"#tag{i}"} for i in range(50)]
    return {
        "@context": [AS_URL] * 40,
        "id": "https://slow.example/notes/1",
        "type": "Note",
        "content": "hoi",
        "tag": tags,
    }


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
async def worker() -> AsyncIterator[JsonLdWorker]:
    async with JsonLdWorker(time_budget=BUDGET) as w:
        yield w


async def test_compact_documents_are_answered_in_process(worker: JsonLdWorker) -> None:
    doc = load("mastodon_create_reply.json")
    assert await worker.normalise(doc) is doc
    assert worker.pid is None  # no process was started for it


async def test_expanded_document_comes_back_normalised(worker: JsonLdWorker) -> None:
    expanded = load("expanded_create.json")
    out = await worker.normalise(expanded)
    assert out == normalise(load("expanded_create.json"))
    activity = parse_activity(out)
    reference = parse_activity(load("mastodon_create_reply.json"))
    assert (activity.type, activity.id, activity.actor) == (reference.type, reference.id, reference.actor)
    assert isinstance(activity.object, dict) and isinstance(reference.object, dict)
    assert parse_note(activity.object) == parse_note(reference.object)
    assert worker.pid is not None


async def test_invalid_json_ld_is_a_normalise_error_and_keeps_the_process(worker: JsonLdWorker) -> None:
    await worker.start()
    pid = worker.pid
    with pytest.raises(NormaliseError) as info:
        await worker.normalise({"@context": 42, "type": "Note"})
    assert not isinstance(info.value, JsonLdBudgetExceeded)
    assert worker.pid == pid


@pytest.mark.parametrize(
    "doc",
    [
        # over 256 kB serialised
        {"@id": "https://big.example/1", "https://www.w3.org/ns/activitystreams#content": "x" * 300_000},
        # over 10,000 JSON nodes, in about 50 kB
        {"@id": "https://wide.example/1", "https://www.w3.org/ns/activitystreams#tag": [{}] * 10_001},
    ],
    ids=["bytes", "nodes"],
)
async def test_oversized_documents_are_refused_without_pyld(worker: JsonLdWorker, doc: dict[str, Any]) -> None:
    assert not is_compact_as2(doc)
    with pytest.raises(JsonLdBudgetExceeded) as info:
        await worker.normalise(doc)
    assert isinstance(info.value, NormaliseError) and isinstance(info.value, ValueError)
    assert worker.pid is None  # refused before any process was started


async def test_too_deep_for_serialising_is_refused_without_pyld(worker: JsonLdWorker) -> None:
    doc: dict[str, Any] = {"@id": "https://deep.example/1"}
    node = doc
    for _ in range(5000):
        child: dict[str, Any] = {}
        node["https://www.w3.org/ns/activitystreams#object"] = child
        node = child
    with pytest.raises(NormaliseError):
        await worker.normalise(doc)
    assert worker.pid is None


def test_count_nodes_is_exact_and_needs_no_recursion() -> None:
    assert count_nodes({"a": [1, 2, {"b": None}], "c": "d"}, 100) == 7
    assert count_nodes([], 100) == 1
    assert count_nodes([0] * 50, 10) > 10
    deep: list[Any] = []
    for _ in range(200_000):
        deep = [deep]
    assert count_nodes(deep, 1_000_000) == 200_001


def test_expensive_document_is_within_the_size_budget() -> None:
    """So it is the time budget, not the size budget, that refuses it below."""
    doc = expensive_document()
    assert not is_compact_as2(doc)
    assert count_nodes(doc, 10_000) < 10_000
    assert len(orjson.dumps(doc)) < 256 * 1024


async def test_over_time_budget_is_killed_and_a_fresh_process_follows(worker: JsonLdWorker) -> None:
    await worker.start()  # the process start is not part of a document's budget
    first = worker.pid
    assert first is not None
    with pytest.raises(JsonLdBudgetExceeded) as info:
        await worker.normalise(expensive_document())
    assert f"longer than {BUDGET:g} s" in str(info.value)  # the time budget refused it, nothing else
    assert worker.pid is None and not alive(first)
    out = await worker.normalise(load("expanded_create.json"))  # the next document gets a new process
    assert parse_activity(out).actor == "https://mastodon.example/users/alice"
    assert worker.pid not in (None, first)


async def test_event_loop_is_never_stalled_by_three_expensive_documents(worker: JsonLdWorker) -> None:
    # The loop goes on with other work while each document is being worked on: ticks come
    # before the first answer and between every two (pyld on the loop would give the three
    # answers in a row, with no tick between them). How long a tick waits: bench/bench_jsonld.py.
    await worker.start()
    events: list[str] = []
    documents = [asyncio.create_task(worker.normalise(expensive_document())) for _ in range(3)]
    for task in documents:
        task.add_done_callback(lambda _: events.append("answer"))
    while not all(task.done() for task in documents):
        events.append("tick")
        await asyncio.sleep(0.01)
    results = await asyncio.gather(*documents, return_exceptions=True)
    assert all(isinstance(r, JsonLdBudgetExceeded) for r in results), results
    answers = [i for i, event in enumerate(events) if event == "answer"]
    assert len(answers) == 3
    assert all(events[i - 1] == "tick" for i in answers), events  # a tick before each answer
    assert answers[0] > 0 and all(b - a > 1 for a, b in itertools.pairwise(answers)), events
    out = await worker.normalise(load("expanded_create.json"))
    assert parse_activity(out).type == "Create"


async def test_close_stops_the_process() -> None:
    worker = JsonLdWorker()
    await worker.start()
    pid = worker.pid
    assert pid is not None and alive(pid)
    worker.close()
    assert worker.pid is None and not alive(pid)
    worker.close()  # twice is fine
    out = await worker.normalise(load("expanded_create.json"))  # and it starts again when asked
    assert parse_activity(out).type == "Create"
    worker.close()
