"""Fixtures for the integration tests: private namespaces and pw_peer processes.

Namespace tests skip (with the reason) when not root or when namespaces cannot be created,
except when the ``CI`` environment variable is set: then they fail.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.netns import (  # noqa: E402
    LoopbackNamespace,
    list_namespaces,
    loopback_namespace,
    netns_available,
)
from tests.support.pwpeer import PwPeer, Spawn, unavailable  # noqa: E402


@pytest.fixture
def need_netns() -> None:
    ok, reason = netns_available()
    if not ok:
        unavailable(reason)


@pytest.fixture
def lo_ns(need_netns: None) -> Iterator[LoopbackNamespace]:
    """A private namespace with only ``lo`` up; removed afterwards (also on failure)."""
    with loopback_namespace() as ns:
        yield ns
    assert ns.ns not in list_namespaces(), f"namespace {ns.ns} left behind"


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """``spawn(name, args, host=None, max_seconds=...)`` starts a pw_peer; all are stopped at
    teardown (politely, then by PID)."""
    started: list[PwPeer] = []

    def start(name: str, args: list[str] | tuple[str, ...] = (), **kw: Any) -> PwPeer:
        kw.setdefault("max_seconds", 45.0)
        peer = PwPeer(name, args, **kw)
        started.append(peer)
        return peer

    yield start
    for peer in reversed(started):
        peer.stop(timeout=5.0)
