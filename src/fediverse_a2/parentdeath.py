"""A child process that ends with its parent, whatever ends the parent (a `kill -9` included).

Linux's PR_SET_PDEATHSIG makes the kernel send the child SIGKILL when the thread that started
it ends. `serve` starts its `worker` child with `pre_exec_hook()`, and the worker's signing
processes call `die_with_parent` first thing, so a killed `serve` leaves no process behind
(multiprocessing's resource tracker then sees its last user gone and ends too). Elsewhere
these do nothing: a child only ends when it notices (EOF on its pipe) or is stopped.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

__all__ = ["die_with_parent", "pre_exec_hook"]

_PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


def die_with_parent(parent: int) -> None:
    """In a child: be killed when the parent ends; exit at once if `parent` has already ended."""
    prctl = _prctl()
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def pre_exec_hook() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess that makes the child die with this process (Linux).

    The hook calls only a prctl looked up now, not in the forked child.
    """
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)

    return hook
