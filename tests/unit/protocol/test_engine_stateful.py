"""Hypothesis state machine over a small mesh of ZreEngines: joins, leaves, whispers, shouts,
lost messages, partial delivery, restarts (new UUID, same endpoint), stops and clock jumps in any
order. Elections are left out (``test_elections.py`` covers them).

Invariants, checked after every step: no engine ever sees a wrong status byte from another
(patchwire must never send one: it kills Ingescape, spec §8), and every message goes out on a
connected DEALER (checked by the harness). At the end, after the network heals and beacons run
for a while, every pair of live nodes is ready both ways, agrees on group membership, and has
forgotten every dead node.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from patchwire.protocol.zre.engine import ZreSettings
from patchwire.protocol.zre.messages import Message
from tests.unit.protocol.zre_net import Net, NetNode

GROUPS = ["A", "B", "INGESCAPE_PRIVATE"]
picks = st.integers(min_value=0, max_value=50)


class MeshMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.net = Net(ZreSettings())
        self.net.drop = self._drop
        self.lose_from: set[bytes] = set()
        self.next_number = 1
        self.live: list[NetNode] = []
        self.gone: list[NetNode] = []
        for _ in range(3):
            self._spawn()

    # ------------------------------------------------------------------ helpers

    def _spawn(self, ip: str | None = None, port: int | None = None) -> NetNode:
        number = self.next_number
        self.next_number += 1
        node = self.net.add(number, ip=ip or f"10.0.{number}.1", port=port)
        self.live.append(node)
        self.net.beacon(node)
        return node

    def _drop(self, source: bytes, target: bytes, message: Message) -> bool:
        if source in self.lose_from:
            self.lose_from.discard(source)
            return True
        return False

    def _pick(self, index: int) -> NetNode:
        return self.live[index % len(self.live)]

    # ------------------------------------------------------------------ rules

    @rule(index=picks, group=st.sampled_from(GROUPS))
    def join(self, index: int, group: str) -> None:
        self._pick(index).engine.join(group)

    @rule(index=picks, group=st.sampled_from(GROUPS))
    def leave(self, index: int, group: str) -> None:
        self._pick(index).engine.leave(group)

    @rule(index=picks, other=picks, payload=st.binary(max_size=8))
    def whisper(self, index: int, other: int, payload: bytes) -> None:
        node = self._pick(index)
        peers = node.engine.peers()
        if peers:
            node.engine.whisper(peers[other % len(peers)], [payload])

    @rule(index=picks, group=st.sampled_from(GROUPS))
    def shout(self, index: int, group: str) -> None:
        engine = self._pick(index).engine
        count = engine.shout(group, [b"s"])
        assert count == len(engine.group_peers(group))

    @rule(count=st.integers(min_value=1, max_value=20))
    def deliver_some(self, count: int) -> None:
        for _ in range(count):
            if not self.net.step():
                break

    @rule()
    def deliver_all(self) -> None:
        self.net.settle()

    @rule(index=picks)
    def lose_next_message_from(self, index: int) -> None:
        self.lose_from.add(self._pick(index).key)

    @rule(seconds=st.sampled_from([0.3, 1.0, 2.5, 6.0]))
    def time_passes(self, seconds: float) -> None:
        self.net.run(seconds)

    @rule(index=picks)
    def restart_with_a_new_uuid(self, index: int) -> None:
        if len(self.live) < 2:
            return
        node = self._pick(index)
        self.net.kill(node)
        self.live.remove(node)
        self.gone.append(node)
        self._spawn(ip=node.ip, port=node.port)

    @rule(index=picks)
    def stop(self, index: int) -> None:
        if len(self.live) < 3:
            return
        node = self._pick(index)
        node.engine.stop()
        self.net.collect()
        self.net.beacon(node, port=0)
        self.net.settle()
        self.net.kill(node)
        self.live.remove(node)
        self.gone.append(node)

    @rule()
    def new_node(self) -> None:
        if len(self.live) < 5:
            self._spawn()

    # ------------------------------------------------------------------ invariants

    @invariant()
    def no_status_errors(self) -> None:
        for node in self.live:
            assert node.engine.statistics().status_errors == 0, node.notices

    @invariant()
    def peers_are_ready_or_unknown(self) -> None:
        for node in self.live:
            peers = node.engine.peers()
            assert len(peers) == len(set(peers))
            assert node.engine.id not in peers

    def teardown(self) -> None:
        self.lose_from.clear()
        self.net.settle()
        self.net.run(25)
        live_ids = {node.id for node in self.live}
        gone_ids = {node.id for node in self.gone}
        for node in self.live:
            peers = set(node.engine.peers())
            assert peers == live_ids - {node.id}, (node.id, peers, live_ids)
            assert not peers & gone_ids
            for other in self.live:
                if other is node:
                    continue
                assert node.engine.peer_groups(other.id) == set(other.engine.groups), (
                    node.id,
                    other.id,
                )
            assert node.engine.statistics().status_errors == 0


TestMesh = MeshMachine.TestCase
TestMesh.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
