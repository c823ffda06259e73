"""Shared helpers of the patchwire ↔ Ingescape interop tests.

- ``require_ingescape()`` / ``require_netns()``: skip (or fail when ``CI`` is set).
- ``start_agent()``: a real Ingescape agent (``IgsPeer``) whose output lines are stamped with
  their arrival time (``rx``, ``time.monotonic()``), for discovery and exit measurements.
- ``start_pw()``: ``tests/support/pw_peer.py`` (a patchwire Node in its own process, possibly
  in a namespace) as a ``PwPeer``, driven with the same API (both are ``JsonLineProcess``).
- ``Recorder``: the events of an in-process ``patchwire.Node``, stamped, with async waits.
- ``finish_agent()``: the agent must still be alive, then stop cleanly with exit code 0.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from patchwire import Node, PeerEvent
from tests.support.igs import IgsPeer, ingescape_available
from tests.support.jsonproc import loopback_endpoint as loopback_endpoint
from tests.support.netns import Host, netns_available
from tests.support.pwpeer import PwPeer, unavailable

INGESCAPE_VERSION_HEADER = "v4.7.0"

TIMINGS: list[str] = []
"""Measured discovery/exit times, printed at the end of the run (``conftest.py``)."""


def record_timing(label: str, seconds: float) -> None:
    TIMINGS.append(f"{label}: {seconds * 1000:.0f} ms")


def require_ingescape() -> None:
    if not ingescape_available():
        unavailable(f"the ingescape package is not importable by {sys.executable}")


def require_netns() -> None:
    ok, reason = netns_available()
    if not ok:
        unavailable(reason)


def start_agent(
    args: Sequence[str], *, host: Host | None = None, max_seconds: float = 60.0
) -> IgsPeer:
    """Start a real Ingescape agent (``igs_peer.py ARGS``), lines stamped with ``rx``."""
    return IgsPeer(args, host=host, max_seconds=max_seconds, stamp="rx")


def start_pw(args: Sequence[str], *, host: Host | None = None, max_seconds: float = 60.0) -> PwPeer:
    """Start ``pw_peer.py ARGS`` (in ``host``'s namespace if given), lines stamped with ``rx``."""
    return PwPeer(None, args, host=host, max_seconds=max_seconds)


def finish_pw(proc: PwPeer) -> None:
    """Assert a ``pw_peer.py`` process is alive, stop it, check exit code 0 and a clean stderr."""
    assert proc.returncode is None, f"pw_peer died\n{proc.describe()}"
    rc = proc.stop()
    assert rc == 0, f"pw_peer exit code {rc}\n{proc.describe()}"
    assert "Traceback" not in proc.stderr, f"pw_peer logged an exception\n{proc.describe()}"


# -- agent output ---------------------------------------------------------------------------


def agent_events(agent: IgsPeer, event: str, **fields: Any) -> list[dict[str, Any]]:
    """``agent_event`` lines (PEER_ENTERED, AGENT_WON_ELECTION…) matching ``fields``."""
    return [
        ln
        for ln in agent.snapshot("agent_event")
        if ln.get("event") == event and all(ln.get(k) == v for k, v in fields.items())
    ]


def channel_events(agent: IgsPeer, event: str, **fields: Any) -> list[dict[str, Any]]:
    """``channel_event`` lines (ENTER, JOIN, SHOUT, WHISPER…) matching ``fields``."""
    return [
        ln
        for ln in agent.snapshot("channel_event")
        if ln.get("event") == event and all(ln.get(k) == v for k, v in fields.items())
    ]


def agent_event_pred(event: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda ln: (
        ln.get("kind") == "agent_event"
        and ln.get("event") == event
        and all(ln.get(k) == v for k, v in fields.items())
    )


def channel_event_pred(event: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda ln: (
        ln.get("kind") == "channel_event"
        and ln.get("event") == event
        and all(ln.get(k) == v for k, v in fields.items())
    )


def hexs(*frames: bytes | str) -> list[str]:
    """Frames as the agent reports them (hex strings)."""
    return [(f.encode() if isinstance(f, str) else f).hex() for f in frames]


def assert_agent_healthy(agent: IgsPeer) -> None:
    """The agent process is still running and reported no callback error."""
    assert agent.returncode is None, f"the Ingescape agent died\n{agent.describe()}"
    assert agent.find({"kind": "callback_error"}) is None, agent.describe()
    assert agent.find({"kind": "deadline"}) is None, agent.describe()


def finish_agent(agent: IgsPeer) -> None:
    """Assert the agent is alive, stop it, and assert it exited cleanly (code 0).

    Call it only when no peer event is on its way to the agent: the binding's ``igs.stop()``
    keeps the GIL while it joins Ingescape's network thread, so an agent or channel callback
    arriving at that moment deadlocks the process (seen with gdb: ``igs_stop`` →
    ``zactor_destroy`` waiting, the network thread in ``PyGILState_Ensure``). ``IgsPeer.stop``
    then kills it after 10 s and this check fails with exit code -9. So wait for the *last*
    callback of what is going on first (``agent_saw_exit``: the channel EXIT after PEER_EXITED).
    """
    assert_agent_healthy(agent)
    rc = agent.stop()
    assert rc == 0, f"agent exit code {rc}\n{agent.describe()}"
    assert agent.find({"kind": "stopped"}) is not None, agent.describe()


def agent_saw_exit(
    agent: IgsPeer, *, uuid: str | None = None, name: str | None = None, timeout: float = 5.0
) -> dict[str, Any]:
    """Wait until the agent reported a peer's exit completely: PEER_EXITED, then the channel
    EXIT event, its last callback for that peer. Returns the PEER_EXITED line."""
    agent_fields = {k: v for k, v in (("uuid", uuid), ("name", name)) if v is not None}
    channel_fields = {k: v for k, v in (("peer_id", uuid), ("peer_name", name)) if v is not None}
    exited = agent.wait_for(agent_event_pred("PEER_EXITED", **agent_fields), timeout)
    agent.wait_for(channel_event_pred("EXIT", **channel_fields), timeout)
    return exited


def agent_saw_enter(
    agent: IgsPeer, *, uuid: str | None = None, name: str | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    """Wait for PEER_ENTERED, then the channel ENTER that follows it. Returns PEER_ENTERED."""
    agent_fields = {k: v for k, v in (("uuid", uuid), ("name", name)) if v is not None}
    channel_fields = {k: v for k, v in (("peer_id", uuid), ("peer_name", name)) if v is not None}
    entered = agent.wait_for(agent_event_pred("PEER_ENTERED", **agent_fields), timeout)
    agent.wait_for(channel_event_pred("ENTER", **channel_fields), timeout)
    return entered


def finish_agents(*agents: IgsPeer, timeout: float = 5.0) -> None:
    """``finish_agent`` each agent in turn; before stopping the next ones, wait until they
    have seen the previous one leave (so that no exit callback races their stop)."""
    for index, agent in enumerate(agents):
        name = agent.wait_ready()["name"]
        finish_agent(agent)
        for other in agents[index + 1 :]:
            agent_saw_exit(other, name=name, timeout=timeout)


async def until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition()`` (every 20 ms) until it returns something truthy; fail at the deadline.

    For conditions that mix patchwire events (event loop) and agent lines (reader threads).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timeout after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def quiet_for(
    proc: IgsPeer, predicate: Any, seconds: float, start: int = 0
) -> dict[str, Any] | None:
    """Watch ``proc`` for ``seconds``: the first line matching ``predicate``, or None if none came.

    Raises if the process ended meanwhile.
    """
    try:
        return proc.wait_for(predicate, seconds, start)
    except AssertionError:
        if proc.returncode is not None:
            raise
        return None


async def agent_wait(
    agent: IgsPeer, predicate: Any, timeout: float = 10.0, start: int = 0
) -> dict[str, Any]:
    """``agent.wait_for`` without blocking the event loop (patchwire nodes keep running)."""
    return await asyncio.to_thread(agent.wait_for, predicate, timeout, start)


# -- in-process patchwire nodes -------------------------------------------------------------


class Recorder:
    """Every event of an in-process node, as ``(arrival time, event)``, with async waits."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.events: list[tuple[float, PeerEvent]] = []
        node.on_event(lambda event: self.events.append((time.monotonic(), event)))

    def of(self, cls: type[Any], **fields: Any) -> list[Any]:
        return [
            ev
            for _, ev in self.events
            if isinstance(ev, cls) and all(getattr(ev, k) == v for k, v in fields.items())
        ]

    def stamped(self, cls: type[Any], **fields: Any) -> list[tuple[float, Any]]:
        return [
            (t, ev)
            for t, ev in self.events
            if isinstance(ev, cls) and all(getattr(ev, k) == v for k, v in fields.items())
        ]

    async def wait(self, cls: type[Any], timeout: float = 10.0, **fields: Any) -> Any:
        """The first event of class ``cls`` with these field values (waits for it)."""

        def first() -> Any:
            found = self.of(cls, **fields)
            return found[0] if found else None

        try:
            return await self.node.wait_until(first, timeout=timeout)
        except Exception as error:
            seen = "\n".join(f"  {ev!r}" for _, ev in self.events[-25:])
            raise AssertionError(
                f"{self.node.name}: no {cls.__name__} {fields} within {timeout} s "
                f"({error!r}); last events:\n{seen}"
            ) from error
