"""Broker mode: peers lost to a partition are greeted again from their gossip tuples."""

from __future__ import annotations

from patchwire.protocol.zre.events import PeerEntered, PeerExited
from tests.support.zremesh import SimMesh, SimNode


def _tuple(mesh: SimMesh, to: SimNode, about: SimNode) -> None:
    to.engine.handle_gossip_tuple(about.engine.id, about.engine.endpoint, mesh.now)
    mesh.pump()


def _count(node: SimNode, kind: type) -> int:
    return sum(isinstance(event, kind) for event in node.events)


def test_partition_longer_than_expiry_heals_through_gossip_tuples() -> None:
    mesh = SimMesh()
    a, b = mesh.add("a", 1), mesh.add("b", 2)
    _tuple(mesh, a, b)
    _tuple(mesh, b, a)
    assert _count(a, PeerEntered) == _count(b, PeerEntered) == 1

    mesh.dead = {a.key, b.key}  # a partition: nothing flows either way, timers still run
    for _ in range(48):  # 12 s: both expire each other
        mesh.now += 0.25
        for node in (a, b):
            node.engine.handle_timer(mesh.now)
        mesh.pump()
    assert [e.reason for e in a.events if isinstance(e, PeerExited)] == ["expired"]
    assert [e.reason for e in b.events if isinstance(e, PeerExited)] == ["expired"]

    mesh.dead = set()  # heal; no broker says anything new
    mesh.advance(12)
    assert _count(a, PeerEntered) == 2
    assert _count(b, PeerEntered) == 2
    assert a.engine.peers() == [b.engine.id]
    assert b.engine.peers() == [a.engine.id]


def test_a_peer_that_said_goodbye_is_not_greeted_again() -> None:
    mesh = SimMesh()
    a, b = mesh.add("a", 1), mesh.add("b", 2)
    _tuple(mesh, a, b)
    _tuple(mesh, b, a)
    b.engine.stop()
    mesh.pump()
    mesh.kill(b)
    assert [e.reason for e in a.events if isinstance(e, PeerExited)] == ["goodbye"]
    hellos_before = sum(1 for _, message in a.sent if type(message).__name__ == "Hello")
    mesh.advance(60)
    hellos_after = sum(1 for _, message in a.sent if type(message).__name__ == "Hello")
    assert hellos_after == hellos_before
