"""zgossip client and broker engines for ZRE discovery through brokers.

Layer: protocol (pure). A client says HELLO, publishes its own tuple (node UUID → endpoint) and
receives every tuple the broker holds. A broker answers HELLO with all tuples, stores new or
changed ones and forwards them to every connected client, the sender included (as CZMQ does).
Identical tuples are ignored, which is what ends forwarding loops. See ``shared/spec/zre.md`` §11.

Unlike Zyre's client, ours PINGs its brokers, so a CZMQ broker (1 s client timeout) keeps it
connected and forwards new tuples at once instead of answering INVALID.
"""

from __future__ import annotations

from dataclasses import dataclass

from patchwire.errors import DecodeError

from .gossip import (
    GossipHello,
    GossipInvalid,
    GossipPing,
    GossipPong,
    GossipPublish,
    decode_gossip,
)

__all__ = ["GossipBrokerEngine", "GossipClientEngine"]


class GossipClientEngine:
    """One connection to one broker."""

    def __init__(self, *, key: str, value: str, now: float, ping_interval: float = 0.5) -> None:
        self.key = key
        self.value = value
        self.ping_interval = ping_interval
        self._next_ping = now + ping_interval
        self._tuples: list[tuple[str, str]] = []
        self.invalid_count = 0
        self.decode_errors = 0

    def greeting(self, now: float) -> list[bytes]:
        """Frames to send when the connection (re)opens: HELLO, then our own tuple."""
        self._next_ping = now + self.ping_interval
        return [GossipHello().encode(), GossipPublish(key=self.key, value=self.value).encode()]

    def handle(self, frame: bytes, now: float) -> list[bytes]:
        """A frame from the broker; returns the frames to send back."""
        try:
            message = decode_gossip(frame)
        except DecodeError:
            self.decode_errors += 1
            return []
        match message:
            case GossipPublish(key=key, value=value):
                self._tuples.append((key, value))
            case GossipInvalid():
                # The broker forgot us (it expires silent clients): start over.
                self.invalid_count += 1
                return self.greeting(now)
            case GossipPing():
                return [GossipPong().encode()]
            case _:
                pass
        return []

    def drain_tuples(self) -> list[tuple[str, str]]:
        tuples, self._tuples = self._tuples, []
        return tuples

    def next_deadline(self) -> float:
        return self._next_ping

    def handle_timer(self, now: float) -> list[bytes]:
        if now < self._next_ping:
            return []
        self._next_ping = now + self.ping_interval
        return [GossipPing().encode()]


@dataclass(slots=True)
class _Client:
    connected: bool
    last_seen: float


class GossipBrokerEngine:
    """The broker side: many clients, keyed by their ROUTER routing id."""

    def __init__(self, *, client_timeout: float = 60.0) -> None:
        self.client_timeout = client_timeout
        self._clients: dict[bytes, _Client] = {}
        self._tuples: dict[str, str] = {}
        self._learnt: list[tuple[str, str]] = []
        self.decode_errors = 0

    @property
    def tuples(self) -> dict[str, str]:
        return dict(self._tuples)

    def client_count(self) -> int:
        return sum(1 for client in self._clients.values() if client.connected)

    def publish(self, key: str, value: str) -> list[tuple[bytes, bytes]]:
        """A tuple of the broker's own host (its node); returns what to send to whom."""
        if self._tuples.get(key) == value:
            return []
        self._tuples[key] = value
        return self._forward(key, value)

    def forget(self, key: str) -> None:
        """Drop a tuple (its node left); nothing is sent, as in Zyre."""
        self._tuples.pop(key, None)

    def handle(self, client: bytes, frame: bytes, now: float) -> list[tuple[bytes, bytes]]:
        """A frame from ``client``; returns ``(routing id, frame)`` pairs to send."""
        state = self._clients.get(client)
        try:
            message = decode_gossip(frame)
        except DecodeError:
            self.decode_errors += 1
            self._clients.pop(client, None)
            return [(client, GossipInvalid().encode())]
        if isinstance(message, GossipPing):
            if state is not None:
                state.last_seen = now
            return [(client, GossipPong().encode())]
        if isinstance(message, GossipHello):
            if state is not None and state.connected:
                del self._clients[client]
                return [(client, GossipInvalid().encode())]
            self._clients[client] = _Client(connected=True, last_seen=now)
            return [
                (client, GossipPublish(key=key, value=value).encode())
                for key, value in self._tuples.items()
            ]
        if state is None or not state.connected:
            self._clients.pop(client, None)
            return [(client, GossipInvalid().encode())]
        state.last_seen = now
        if isinstance(message, GossipPublish):
            if self._tuples.get(message.key) == message.value:
                return []
            self._tuples[message.key] = message.value
            self._learnt.append((message.key, message.value))
            return self._forward(message.key, message.value)
        return []  # PONG or INVALID from a client: nothing to do

    def drain_learnt(self) -> list[tuple[str, str]]:
        """Tuples received from clients since the last call, for the broker's own node."""
        learnt, self._learnt = self._learnt, []
        return learnt

    def handle_timer(self, now: float) -> None:
        expired = [
            rid for rid, c in self._clients.items() if now - c.last_seen > self.client_timeout
        ]
        for rid in expired:
            del self._clients[rid]

    def _forward(self, key: str, value: str) -> list[tuple[bytes, bytes]]:
        frame = GossipPublish(key=key, value=value).encode()
        return [(rid, frame) for rid, c in self._clients.items() if c.connected]
