"""A step-by-step network of ZreEngines for the protocol unit tests.

Unlike ``tests/support/zremesh.py`` (instant delivery), messages wait in one FIFO queue, so a test
can deliver them one at a time and act between two deliveries (a JOIN in the middle of an election
wave, a lost message). Every frame list an engine emits is decoded again with ``decode_message``,
so the tests also check that what the engine sends is valid on the wire.

The clock is injected: ``advance`` moves ``now`` in small steps and runs each live engine's reap
timer at its deadline. Nothing here sleeps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from patchwire.protocol.zre.beacon import Beacon
from patchwire.protocol.zre.engine import (
    Connect,
    Disconnect,
    EngineAction,
    Notice,
    SendFrames,
    ZreEngine,
    ZreSettings,
)
from patchwire.protocol.zre.events import PeerEvent
from patchwire.protocol.zre.messages import Hello, Message, decode_message

__all__ = ["Net", "NetNode", "uuid_of"]


def uuid_of(number: int) -> UUID:
    return UUID(int=number)


@dataclass
class NetNode:
    engine: ZreEngine
    ip: str
    port: int
    events: list[PeerEvent] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    sent: list[tuple[bytes, Message]] = field(default_factory=list)
    """Every message this node sent, with the target's raw key (including undelivered ones)."""
    received: list[tuple[bytes, Message]] = field(default_factory=list)
    links: set[bytes] = field(default_factory=set)
    connects: list[Connect] = field(default_factory=list)
    disconnects: list[bytes] = field(default_factory=list)

    @property
    def key(self) -> bytes:
        return self.engine.uuid.bytes

    @property
    def id(self) -> str:
        return self.engine.id

    def take_events(self) -> list[PeerEvent]:
        events, self.events = self.events, []
        return events

    def of_type(self, kind: type) -> list[PeerEvent]:
        return [event for event in self.events if isinstance(event, kind)]

    def sent_to(self, other: NetNode, kind: type | None = None) -> list[Message]:
        return [
            message
            for target, message in self.sent
            if target == other.key and (kind is None or isinstance(message, kind))
        ]

    def hellos(self) -> list[tuple[bytes, Message]]:
        return [(target, message) for target, message in self.sent if isinstance(message, Hello)]


class Net:
    """Nodes addressed by endpoint; one FIFO queue of messages in flight."""

    def __init__(self, settings: ZreSettings | None = None, *, now: float = 100.0) -> None:
        self.now = now
        self.settings = settings or ZreSettings()
        self.nodes: dict[bytes, NetNode] = {}
        self.dead: set[bytes] = set()
        self.queue: deque[tuple[bytes, bytes, Message]] = deque()
        self.drop: Callable[[bytes, bytes, Message], bool] | None = None
        """When set and true for (source, target, message), that message is lost."""

    # ------------------------------------------------------------------ building

    def add(
        self,
        number: int,
        name: str | None = None,
        *,
        ip: str = "10.0.0.1",
        port: int | None = None,
        public_key: bytes | None = None,
        headers: dict[str, str] | None = None,
        settings: ZreSettings | None = None,
    ) -> NetNode:
        uuid = uuid_of(number)
        port = 40000 + number % 20000 if port is None else port
        engine = ZreEngine(
            uuid=uuid,
            name=name if name is not None else f"node{number}",
            endpoint=f"tcp://{ip}:{port}",
            now=self.now,
            headers=headers,
            settings=settings or self.settings,
            public_key=public_key,
        )
        node = NetNode(engine, ip, port)
        self.nodes[node.key] = node
        return node

    def node(self, key: bytes) -> NetNode:
        return self.nodes[key]

    # ------------------------------------------------------------------ inputs

    def beacon(
        self, source: NetNode, *, port: int | None = None, to: list[NetNode] | None = None
    ) -> None:
        """``source`` broadcasts one beacon; ``to`` restricts who hears it."""
        beacon = Beacon(
            uuid=source.engine.uuid,
            port=source.port if port is None else port,
            public_key=source.engine.public_key,
        )
        for node in to if to is not None else list(self.nodes.values()):
            if node is not source and node.key not in self.dead:
                node.engine.handle_beacon(beacon, source.ip, self.now)
        self.collect()

    def discover_all(self) -> None:
        """Every live node beacons once; then deliver everything."""
        for node in list(self.nodes.values()):
            if node.key not in self.dead:
                self.beacon(node)
        self.settle()

    def kill(self, node: NetNode) -> None:
        """The process dies: it neither sends nor receives any more."""
        self.dead.add(node.key)

    # ------------------------------------------------------------------ delivery

    def collect(self) -> None:
        """Move every engine's pending actions and events into the harness."""
        for node in list(self.nodes.values()):
            for action in node.engine.drain_actions():
                self._apply(node, action)
            node.events.extend(node.engine.drain_events())

    def _apply(self, node: NetNode, action: EngineAction) -> None:
        match action:
            case Connect():
                node.connects.append(action)
                node.links.add(action.peer)
            case Disconnect(peer=peer):
                node.disconnects.append(peer)
                node.links.discard(peer)
            case Notice():
                node.notices.append(action)
            case SendFrames(peer=peer, frames=frames):
                message = decode_message(frames)
                node.sent.append((peer, message))
                if peer not in node.links:
                    raise AssertionError(f"{node.id} sent {message} to {peer.hex()} unconnected")
                if node.key not in self.dead:
                    self.queue.append((node.key, peer, message))

    def step(self) -> bool:
        """Deliver the oldest message in flight; False when none is left."""
        self.collect()
        if not self.queue:
            return False
        source, target, message = self.queue.popleft()
        receiver = self.nodes.get(target)
        if receiver is not None and target not in self.dead and source not in self.dead:
            if self.drop is not None and self.drop(source, target, message):
                pass
            else:
                receiver.received.append((source, message))
                receiver.engine.handle_message(source, message, self.now)
        self.collect()
        return True

    def settle(self, limit: int = 100_000) -> int:
        """Deliver until nothing is in flight; returns how many messages moved."""
        count = 0
        while self.step():
            count += 1
            if count > limit:
                raise AssertionError("network did not settle")
        return count

    def advance(self, seconds: float, step: float = 0.1) -> None:
        """Move the clock, running every live engine's reap tick when due, settling each step."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now = min(end, round(self.now + step, 9))
            for node in list(self.nodes.values()):
                if node.key in self.dead:
                    continue
                deadline = node.engine.next_deadline()
                if deadline is not None and deadline <= self.now:
                    node.engine.handle_timer(self.now)
            self.settle()

    def run(self, seconds: float, *, beacon_every: float = 1.0, step: float = 0.1) -> None:
        """Like :meth:`advance`, with every live node beaconing every ``beacon_every`` s."""
        end = self.now + seconds
        next_beacon = self.now + beacon_every
        while self.now < end - 1e-9:
            self.advance(min(step, end - self.now), step=step)
            if self.now >= next_beacon - 1e-9:
                next_beacon += beacon_every
                for node in list(self.nodes.values()):
                    if node.key not in self.dead:
                        self.beacon(node)
                self.settle()

    def deliver(self, source: NetNode, target: NetNode, message: Message) -> None:
        """Inject ``message`` as if ``source`` had sent it to ``target`` (no sequence magic)."""
        target.received.append((source.key, message))
        target.engine.handle_message(source.key, message, self.now)
        self.collect()


class Remote:
    """A hand-driven remote node for single-engine tests: what it "sends" goes straight into
    ``engine.handle_message`` with the sequence numbers a correct sender would use (or the ones
    the test forces)."""

    def __init__(
        self,
        engine: ZreEngine,
        number: int,
        *,
        ip: str = "10.0.0.2",
        port: int | None = None,
        name: str | None = None,
    ) -> None:
        self.engine = engine
        self.uuid = uuid_of(number)
        self.key = self.uuid.bytes
        self.id = self.uuid.hex.upper()
        self.ip = ip
        self.port = 50000 + number % 10000 if port is None else port
        self.endpoint = f"tcp://{ip}:{self.port}"
        self.name = name if name is not None else f"remote{number}"
        self.sequence = 0

    def beacon(self, now: float, *, port: int | None = None, key: bytes | None = None) -> None:
        beacon = Beacon(uuid=self.uuid, port=self.port if port is None else port, public_key=key)
        self.engine.handle_beacon(beacon, self.ip, now)

    def hello(
        self,
        now: float,
        *,
        groups: tuple[str, ...] = (),
        status: int = 0,
        headers: dict[str, str] | None = None,
        sequence: int = 1,
        name: str | None = None,
        endpoint: str | None = None,
    ) -> Hello:
        self.sequence = sequence
        hello = Hello(
            sequence=sequence,
            endpoint=endpoint if endpoint is not None else self.endpoint,
            groups=groups,
            status=status,
            name=name if name is not None else self.name,
            headers=dict(headers or {}),
        )
        self.engine.handle_message(self.key, hello, now)
        return hello

    def send(
        self, kind: type, now: float, *, sequence: int | None = None, **fields: object
    ) -> Message:
        """Send the next message of ``kind``; ``sequence`` forces a number (counting goes on)."""
        self.sequence = (self.sequence + 1) & 0xFFFF if sequence is None else sequence
        message: Message = kind(sequence=self.sequence, **fields)
        self.engine.handle_message(self.key, message, now)
        return message
