"""Pytest-friendly driver for ``tests/support/pw_peer.py`` (a patchwire Node in a subprocess).

Each ``PwPeer`` is one process, started on this host (broker mode on 127.0.0.1) or inside a
``netns.Host`` (beacon mode in a private namespace). Its JSON lines are collected by the shared
``JsonLineProcess`` driver and stamped with ``rx``, the parent's ``time.monotonic()`` at receipt,
so times measured across several processes share one clock. Tests wait on lines with deadlines,
never with fixed sleeps.

The child imports the same ``patchwire`` as the test process (its source directory is put first
on the child's ``PYTHONPATH``), and is killed by PID shortly after its own ``--max-seconds``.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tests.support.jsonproc import (
    ROOT,
    STOP,
    JsonLineProcess,
    Line,
    Predicate,
    child_env,
    free_tcp_port,
    loopback_endpoint,
)
from tests.support.netns import Host

__all__ = [
    "PW_PEER_SCRIPT",
    "JsonProcess",
    "Line",
    "Predicate",
    "PwPeer",
    "Spawn",
    "beacon_port",
    "child_env",
    "event",
    "free_tcp_port",
    "loopback_endpoint",
    "unavailable",
    "wait_all",
]

PW_PEER_SCRIPT = ROOT / "tests" / "support" / "pw_peer.py"

Spawn = Callable[..., "PwPeer"]
"""The ``spawn`` fixture: ``spawn(name, args, host=None, max_seconds=...)`` -> PwPeer."""

_ports = itertools.count(random.randrange(20000, 29000, 50))


def unavailable(reason: str) -> None:
    """Skip for a missing prerequisite, or fail when the ``CI`` variable is set."""
    import pytest  # only the tests need it, not the bench

    if os.environ.get("CI"):
        pytest.fail(f"prerequisite missing on CI: {reason}")
    pytest.skip(reason)


def beacon_port() -> int:
    """A UDP port for one test's beacons (they only travel inside that test's namespace)."""
    return next(_ports)


def event(type_: str, **fields: Any) -> Callable[[Line], bool]:
    """Predicate: an ``event`` line of class ``type_`` whose fields equal ``fields``."""

    def match(line: Line) -> bool:
        return (
            line.get("kind") == "event"
            and line.get("type") == type_
            and all(line.get(k) == v for k, v in fields.items())
        )

    return match


class JsonProcess(JsonLineProcess):
    """A JSON-lines process importing this process's patchwire (``child_env``), run from the
    repository root, its lines stamped with ``rx``."""

    def __init__(
        self,
        argv: Sequence[str] = (),
        *,
        host: Host | None = None,
        max_seconds: float = 60.0,
        start: bool = True,
    ) -> None:
        super().__init__(
            argv,
            host=host,
            max_seconds=max_seconds,
            env=child_env(),
            cwd=ROOT,
            stamp="rx",
            start=start,
        )


class PwPeer(JsonProcess):
    """One ``pw_peer.py`` process: a patchwire Node driven by JSON commands.

    ``name`` becomes ``--name``; with ``name=None``, ``args`` carry all the options (the
    script's default name applies without ``--name``).
    """

    stop_command = STOP

    def __init__(
        self,
        name: str | None,
        args: Sequence[str] = (),
        *,
        host: Host | None = None,
        max_seconds: float = 60.0,
        start: bool = True,
    ) -> None:
        self.name = name
        self.label = "pw_peer" if name is None else f"pw_peer {name!r}"
        self.uuid: str | None = None
        self.endpoint: str | None = None
        argv = [sys.executable, "-u", str(PW_PEER_SCRIPT)]
        if name is not None:
            argv += ["--name", name]
        argv += [*args, "--max-seconds", str(max_seconds)]
        super().__init__(argv, host=host, max_seconds=max_seconds, start=start)

    def request(self, cmd: Mapping[str, Any], timeout: float = 10.0) -> Line:
        """Send a command and return its ``ack`` line (AssertionError if it reports an error)."""
        ack = super().request(cmd, timeout)
        assert "error" not in ack, f"{cmd} failed: {ack}\n{self.describe()}"
        return ack

    def events(self, type_: str, **fields: Any) -> list[Line]:
        """Event lines of this ``type`` whose fields equal ``fields``."""
        return self.find_all(event(type_, **fields))

    def wait_event(self, type_: str, timeout: float = 10.0, start: int = 0, **fields: Any) -> Line:
        return self.wait_for(event(type_, **fields), timeout, start)

    def wait_ready(self, timeout: float = 20.0) -> Line:
        line = super().wait_ready(timeout)
        self.uuid = line["uuid"]
        self.endpoint = line["endpoint"]
        return line

    def peers(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request({"cmd": "peers"})["result"]
        return result

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = self.request({"cmd": "stats"})["result"]
        return result

    def entered(self) -> dict[str, Line]:
        """PeerEntered lines by peer id (the last one for each id)."""
        return {ln["peer"]: ln for ln in self.find_all(event("PeerEntered"))}


def wait_all(
    condition: Callable[[], bool], timeout: float, what: str, *peers: JsonLineProcess
) -> float:
    """Poll ``condition`` (cheap, in-memory) until true; returns the monotonic time it held.

    Wakes on any new line of ``peers``; AssertionError naming ``what`` at the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return time.monotonic()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            details = "\n".join(p.describe() for p in peers)
            raise AssertionError(f"timeout after {timeout}s waiting for {what}\n{details}")
        # A bounded wait on the first process's output: new lines wake it early, and the
        # slice bounds the latency of conditions that depend on the others.
        with peers[0]._cond:
            peers[0]._cond.wait(min(remaining, 0.05))
