"""Expensive JSON-LD never stalls the server: the pyld slow path runs in a worker process.

Compact AS2 (nearly everything peers send) is answered at once, in-process, by
`activitypub.jsonld.normalise`. Any other document is first measured -- more than
`max_nodes` JSON values (counted without recursion) or a serialisation over `max_bytes` is
refused before any pyld work -- and then compacted by pyld in a separate process, because
pyld is pure Python and would hold the GIL in a thread. A document that takes longer than
`time_budget` gets its process killed (the next document gets a fresh one) and raises
`JsonLdBudgetExceeded`, a NormaliseError, so the inbox answers 4xx.

One worker process (spawn context, started lazily, pyld imported once) serves documents one
at a time: concurrent calls queue on a single helper thread, which only waits on the pipe.
The time budget counts from the moment a document is sent to the process, not the wait in
the queue. A caller cancelled while its document is being processed abandons the answer;
the process finishes or runs out of budget as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import orjson

from ..activitypub.jsonld import AS_URL, compact, is_compact_as2, normalise
from ..activitypub.jsonld_errors import JsonLdBudgetExceeded, NormaliseError

__all__ = ["JsonLdBudgetExceeded", "JsonLdWorker", "count_nodes"]

_READY = b"ready"
_OK = b"0"
_FAILED = b"1"


def count_nodes(doc: Any, limit: int) -> int:
    """The JSON values in doc (containers and scalars), counted without recursion.

    Stops as soon as the count passes limit (the answer is then some number above it).
    """
    count = 0
    stack: list[Any] = [doc]
    while stack:
        value = stack.pop()
        count += 1
        if isinstance(value, dict | list):
            if count + len(stack) + len(value) > limit:
                return count + len(stack) + len(value)
            stack.extend(value.values() if isinstance(value, dict) else value)
    return count


def _serve(conn: Connection) -> None:
    """The worker process: import pyld once, then compact each document it is sent, until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this process ends
    compact({"@context": AS_URL, "type": "Note"})  # imports pyld and resolves the AS context
    conn.send_bytes(_READY)
    while True:
        try:
            payload = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            reply = _OK + orjson.dumps(compact(orjson.loads(payload)))
        except NormaliseError as exc:
            reply = _FAILED + str(exc).encode()
        except Exception as exc:  # a bug or junk pyld did not anticipate: still this document's failure
            reply = _FAILED + f"JSON-LD processing failed: {type(exc).__name__}".encode()
        conn.send_bytes(reply)


@dataclass
class _Child:
    process: BaseProcess
    conn: Connection

    def kill(self) -> None:
        self.process.kill()
        self.process.join(1.0)
        self.conn.close()


class JsonLdWorker:
    """Normalises inbound documents with the pyld work off the event loop, under budgets."""

    def __init__(
        self,
        time_budget: float = 2.0,
        max_bytes: int = 256 * 1024,
        max_nodes: int = 10_000,
        start_timeout: float = 30.0,
    ) -> None:
        self.time_budget = time_budget
        self.max_bytes = max_bytes
        self.max_nodes = max_nodes
        self.start_timeout = start_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._child: _Child | None = None
        self._generation = 0  # bumped by close(): a helper thread of an older one stands down
        self._guard = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The worker process's pid, or None when none is running."""
        child = self._child
        return child.process.pid if child is not None and child.process.is_alive() else None

    async def start(self) -> None:
        """Start the worker process now rather than for the first slow-path document."""
        await self._submit(self._ensure_child)

    async def normalise(self, doc: dict[str, Any]) -> dict[str, Any]:
        """`jsonld.normalise(doc)`: compact AS2 at once, anything else by pyld in the worker process.

        Raises JsonLdBudgetExceeded when doc is too large or pyld runs past the time budget,
        NormaliseError when pyld cannot read it.
        """
        if is_compact_as2(doc):
            return normalise(doc)
        nodes = count_nodes(doc, self.max_nodes)
        if nodes > self.max_nodes:
            raise JsonLdBudgetExceeded(f"JSON-LD document has more than {self.max_nodes} nodes")
        try:
            payload = orjson.dumps(doc)
        except (orjson.JSONEncodeError, TypeError) as exc:
            raise NormaliseError(f"document cannot be serialised: {exc}") from exc
        if len(payload) > self.max_bytes:
            raise JsonLdBudgetExceeded(f"JSON-LD document is over {self.max_bytes} bytes")
        reply: bytes = await self._submit(self._exchange, payload)
        if reply[:1] == _OK:
            out: dict[str, Any] = orjson.loads(reply[1:])
            return out
        raise NormaliseError(reply[1:].decode("utf-8", "replace"))

    def close(self) -> None:
        """Stop the worker process and its helper thread; a later call starts them again."""
        with self._guard:
            self._generation += 1
            executor, self._executor = self._executor, None
            child, self._child = self._child, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        if child is not None:
            child.kill()

    async def __aenter__(self) -> JsonLdWorker:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    # --- on the helper thread ---------------------------------------------------------------

    async def _submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self._guard:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jsonld-worker")
            executor, generation = self._executor, self._generation
        return await asyncio.wrap_future(executor.submit(fn, generation, *args))

    def _ensure_child(self, generation: int) -> _Child:
        child = self._child
        if child is not None and child.process.is_alive():
            return child
        if child is not None:
            self._discard(child)
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe(duplex=True)
        process = context.Process(target=_serve, args=(child_end,), name="fediverse-a2-jsonld", daemon=True)
        process.start()
        child_end.close()
        child = _Child(process, parent_end)
        ready = False
        with contextlib.suppress(EOFError, OSError):
            ready = parent_end.poll(self.start_timeout) and parent_end.recv_bytes() == _READY
        if not ready:
            child.kill()
            raise RuntimeError("the JSON-LD worker process did not start")
        with self._guard:
            if generation == self._generation:
                self._child = child
                return child
        child.kill()  # close() ran meanwhile
        raise NormaliseError("the JSON-LD worker was closed")

    def _discard(self, child: _Child) -> None:
        with self._guard:
            if self._child is child:
                self._child = None
        child.kill()

    def _exchange(self, generation: int, payload: bytes) -> bytes:
        child = self._ensure_child(generation)
        try:
            child.conn.send_bytes(payload)
            if not child.conn.poll(self.time_budget):
                self._discard(child)
                raise JsonLdBudgetExceeded(f"JSON-LD processing took longer than {self.time_budget:g} s")
            return child.conn.recv_bytes()
        except (EOFError, OSError) as exc:
            self._discard(child)
            raise NormaliseError("the JSON-LD worker process stopped while processing the document") from exc
