"""A simulated ZRE network of engines: delivers actions instantly, with an injected clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from patchwire.protocol.zre.beacon import Beacon
from patchwire.protocol.zre.engine import (
    Connect,
    Disconnect,
    Notice,
    SendFrames,
    ZreEngine,
    ZreSettings,
)
from patchwire.protocol.zre.events import PeerEvent
from patchwire.protocol.zre.messages import Message, decode_message


@dataclass
class SimNode:
    engine: ZreEngine
    ip: str
    port: int
    events: list[PeerEvent] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    sent: list[tuple[bytes, Message]] = field(default_factory=list)
    links: set[bytes] = field(default_factory=set)

    @property
    def key(self) -> bytes:
        return self.engine.uuid.bytes


class SimMesh:
    """Nodes that reach each other by endpoint; ``cut`` models a dead link or process."""

    def __init__(self, settings: ZreSettings | None = None) -> None:
        self.now = 0.0
        self.settings = settings or ZreSettings()
        self.nodes: dict[bytes, SimNode] = {}
        self.dead: set[bytes] = set()
        self.drop_next: set[tuple[bytes, bytes]] = set()

    def add(self, name: str, number: int, *, public_key: bytes | None = None) -> SimNode:
        uuid = UUID(int=number)
        ip, port = "10.0.0.1", 40000 + number
        engine = ZreEngine(
            uuid=uuid,
            name=name,
            endpoint=f"tcp://{ip}:{port}",
            now=self.now,
            headers={"x-name": name},
            settings=self.settings,
            public_key=public_key,
        )
        node = SimNode(engine, ip, port)
        self.nodes[uuid.bytes] = node
        return node

    def by_endpoint(self, endpoint: str) -> SimNode | None:
        for node in self.nodes.values():
            if node.engine.endpoint == endpoint and node.key not in self.dead:
                return node
        return None

    def beacon(self, source: SimNode, port: int | None = None) -> None:
        beacon = Beacon(uuid=source.engine.uuid, port=source.port if port is None else port)
        for node in list(self.nodes.values()):
            if node is not source and node.key not in self.dead:
                node.engine.handle_beacon(beacon, source.ip, self.now)
        self.pump()

    def pump(self) -> None:
        """Deliver until quiet."""
        for _ in range(10_000):
            moved = False
            for node in list(self.nodes.values()):
                node.events.extend(node.engine.drain_events())
                for action in node.engine.drain_actions():
                    moved = True
                    self._apply(node, action)
            if not moved:
                return
        raise AssertionError("mesh did not settle")

    def _apply(self, node: SimNode, action: object) -> None:
        if isinstance(action, Connect):
            node.links.add(action.peer)
        elif isinstance(action, Disconnect):
            node.links.discard(action.peer)
        elif isinstance(action, Notice):
            node.notices.append(action)
        elif isinstance(action, SendFrames):
            message = decode_message(action.frames)
            node.sent.append((action.peer, message))
            target = self.nodes.get(action.peer)
            if target is None or target.key in self.dead or node.key in self.dead:
                return
            if (node.key, action.peer) in self.drop_next:
                self.drop_next.discard((node.key, action.peer))
                return
            target.engine.handle_message(node.key, message, self.now)

    def advance(self, seconds: float, step: float = 0.25) -> None:
        end = self.now + seconds
        while self.now < end:
            self.now = min(end, self.now + step)
            for node in self.nodes.values():
                if node.key not in self.dead:
                    node.engine.handle_timer(self.now)
            self.pump()

    def kill(self, node: SimNode) -> None:
        self.dead.add(node.key)
