"""Liveness settings that expire a live peer (found while testing against real agents).

In the beacon interop tests, a pw_peer started with ``--evasive 2 --expired 3`` expired the live
Ingescape agent about once in ten runs (``PeerExited(reason="expired")``, then a re-HELLO, seen
by the agent as PEER_EXITED + PEER_ENTERED churn). Cause: the agent stays silent unless PINGed;
when ``expired - evasive`` is one reap interval, the only PING chance after a PING_OK at ``T`` is
the reap tick at ``T + 2``, which comes a hair *before* ``evasive_at = T + rtt + 2`` and is
skipped; the next tick, ``T + 3``, already finds the peer expired if it comes later than ``rtt``
(1-2 ms of event-loop jitter is enough).

Either ``ZreSettings`` refuses such settings, or the engine must keep such a peer alive. This
test drives the sans-I/O engine with an injected clock; no network, no Ingescape.
"""

from __future__ import annotations

from uuid import UUID

from patchwire import PeerExited
from patchwire.protocol.zre.engine import SendFrames, ZreEngine, ZreSettings
from patchwire.protocol.zre.messages import Hello, Ping, PingOk, decode_message

RTT = 0.001
"""The peer answers every PING 1 ms later."""
LATE = 0.002
"""How late a reap tick fires now and then (event-loop jitter): every third tick here."""


def test_a_peer_that_answers_every_ping_is_never_expired() -> None:
    evasive, expired = 2.0, 3.0  # what the beacon test used (pw_peer --evasive 2 --expired 3)
    try:
        settings = ZreSettings(evasive=evasive, expired=expired)
    except ValueError:
        return  # refusing such settings is a fine fix too
    engine = ZreEngine(
        uuid=UUID(int=1), name="pw", endpoint="tcp://10.0.0.2:5000", now=0.0, settings=settings
    )
    agent = UUID(int=2).bytes
    hello = Hello(
        sequence=1, endpoint="tcp://10.0.0.1:6000", groups=(), status=0, name="igs", headers={}
    )
    engine.handle_message(agent, hello, 0.0)
    engine.drain_actions()
    engine.drain_events()
    sequence = 1
    for tick in range(1, 40):
        # The runtime fires each reap tick at next_deadline(), sometimes a little late.
        deadline = engine.next_deadline()
        assert deadline is not None
        now = deadline + (LATE if tick % 3 == 0 else 0.0)
        engine.handle_timer(now)
        events = engine.drain_events()
        assert not [e for e in events if isinstance(e, PeerExited)], (
            f"a live peer answering every PING within {RTT * 1000:.0f} ms was expired at "
            f"t={now:.3f} s with evasive={evasive}, expired={expired}, reap_interval="
            f"{settings.reap_interval}: {events}"
        )
        pinged = any(
            isinstance(action, SendFrames) and isinstance(decode_message(action.frames), Ping)
            for action in engine.drain_actions()
        )
        if pinged:
            sequence += 1
            engine.handle_message(agent, PingOk(sequence=sequence), now + RTT)
