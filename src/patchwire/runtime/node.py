"""Node: one ZRE peer on the network — beacons or brokers, ROUTER inbox, a DEALER per peer.

Layer: runtime (the public peer-level API, re-exported as ``patchwire.Node``). All decisions are
taken by :class:`~patchwire.protocol.zre.engine.ZreEngine`; the node feeds it with what arrives,
executes the actions it returns, schedules its deadline and hands events to subscribers.
Everything runs on the event loop thread that called :meth:`Node.start`.

Bad input from the network is counted in :meth:`Node.statistics`, logged (rate-limited) and
dropped; it never raises out of the node.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from types import TracebackType
from typing import Self, TypeVar
from uuid import UUID, uuid4

import zmq

from patchwire.errors import (
    ClosedError,
    ConfigurationError,
    DecodeError,
    NetworkError,
    StateError,
    TimeoutError,
    UnknownNameError,
    WrongThreadError,
)
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
from patchwire.protocol.zre.events import PeerEvent, PeerExited
from patchwire.protocol.zre.messages import decode_message

from .beacon import BeaconEndpoint
from .config import Network, check_tcp_endpoint
from .context import shared_context
from .gossip import GossipBroker, GossipClient
from .interfaces import broadcast_address, default_interface, find_interface
from .logs import RateLimitedLog
from .sockets import Watcher

__all__ = ["EventStream", "Node", "NodeStatistics", "PeerInfo"]

logger = logging.getLogger("patchwire.node")
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerInfo:
    """What we know of a ready peer."""

    id: str
    name: str
    endpoint: str
    headers: dict[str, str]
    groups: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeStatistics:
    """Counters since start (a snapshot)."""

    peers: int
    messages_in: int
    messages_out: int
    beacons_in: int
    beacons_sent: int
    peers_entered: int
    peers_exited: int
    sequence_errors: int
    status_errors: int
    ignored_messages: int
    ignored_beacons: int
    decode_errors: int
    send_drops: int
    events_dropped: int


class EventStream:
    """An async iterator over a node's events, from the moment it was created.

    Bounded: when the consumer falls behind by ``maxsize`` events the oldest is dropped and
    counted in ``dropped`` (and in the node's ``events_dropped``).
    """

    def __init__(self, node: Node, maxsize: int) -> None:
        self._node = node
        self._queue: deque[PeerEvent] = deque()
        self._maxsize = maxsize
        self._wakeup: asyncio.Future[None] | None = None
        self._closed = False
        self.dropped = 0

    def _put(self, event: PeerEvent) -> None:
        if len(self._queue) >= self._maxsize:
            self._queue.popleft()
            self.dropped += 1
            self._node._events_dropped += 1
        self._queue.append(event)
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _close(self) -> None:
        self._closed = True
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> PeerEvent:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._wakeup = asyncio.get_running_loop().create_future()
            await self._wakeup
        return self._queue.popleft()

    async def get(self, timeout: float | None = None) -> PeerEvent:
        """The next event; raises :class:`patchwire.TimeoutError` after ``timeout`` seconds and
        :class:`patchwire.ClosedError` once the node stopped and every event was read."""
        try:
            async with asyncio.timeout(timeout):
                return await self.__anext__()
        except builtins.TimeoutError as error:
            raise TimeoutError(f"no event within {timeout} s") from error
        except StopAsyncIteration:
            raise ClosedError("the node stopped: no more events") from None

    def pending(self) -> list[PeerEvent]:
        """Events already queued, without waiting."""
        events = list(self._queue)
        self._queue.clear()
        return events

    def close(self) -> None:
        self._node._streams.discard(self)
        self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Node:
    """A ZRE peer: discovery, groups, whispers, shouts and elections.

    >>> async with Node("probe", network=Network(device="lo")) as node:   # doctest: +SKIP
    ...     node.join("CHAT")
    ...     peer = await node.wait_peer("other", timeout=5)
    ...     node.whisper(peer.id, b"hello")
    """

    def __init__(
        self,
        name: str,
        *,
        network: Network | None = None,
        headers: Mapping[str, str] | None = None,
        settings: ZreSettings | None = None,
        uuid: UUID | None = None,
        public_key: bytes | None = None,
        event_queue_size: int = 10_000,
    ) -> None:
        if not name or len(name.encode()) > 255:
            raise ConfigurationError(f"a node name is 1 to 255 bytes, got {name!r}")
        self.name = name
        self.network = network or Network()
        self.settings = settings or ZreSettings()
        self.uuid = uuid or uuid4()
        self.id = self.uuid.hex.upper()
        self.headers = dict(headers or {})
        self.public_key = public_key
        self._event_queue_size = event_queue_size
        self._pending_groups: list[str] = []
        self._pending_elections: list[str] = []
        self._engine: ZreEngine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._context: zmq.Context[zmq.Socket[bytes]] | None = None
        self._inbox: zmq.Socket[bytes] | None = None
        self._inbox_watcher: Watcher | None = None
        self._dealers: dict[bytes, zmq.Socket[bytes]] = {}
        self._beacon: BeaconEndpoint | None = None
        self._gossip_clients: list[GossipClient] = []
        self._broker: GossipBroker | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._streams: set[EventStream] = set()
        self._waiters: list[asyncio.Future[None]] = []
        self._callbacks: list[Callable[[PeerEvent], None]] = []
        self._log = RateLimitedLog(logger)
        self._decode_errors = 0
        self._send_drops = 0
        self._events_dropped = 0
        self._stopped = False
        self.endpoint: str | None = None
        self.broadcast: str | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def started(self) -> bool:
        return self._engine is not None and not self._stopped

    async def start(self) -> None:
        """Bind, start discovery and return; peers arrive as events."""
        if self._engine is not None or self._stopped:
            raise StateError(f"node {self.name!r} was already started; create a new Node")
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._thread = threading.get_ident()
        self._context = shared_context()
        net = self.network
        try:
            bind_ip, broadcast = self._choose_addresses()
            self._inbox = self._context.socket(zmq.ROUTER)
            self._inbox.setsockopt(zmq.ROUTER_HANDOVER, 1)
            self._inbox.setsockopt(zmq.LINGER, 0)
            self._inbox.setsockopt(zmq.RCVHWM, 0)
            endpoint = self._bind_inbox(bind_ip)
            self.endpoint = net.advertised_endpoint or endpoint
            self._engine = ZreEngine(
                uuid=self.uuid,
                name=self.name,
                endpoint=self.endpoint,
                now=loop.time(),
                headers=self.headers,
                settings=self.settings,
                public_key=self.public_key,
            )
            for group in self._pending_groups:
                self._engine.join(group)
            for election in self._pending_elections:
                self._engine.join_election(election)
            self._inbox_watcher = Watcher(loop, self._inbox, self._on_inbox)
            if net.broker_bind is not None:
                self._broker = GossipBroker(
                    context=self._context, endpoint=net.broker_bind, on_tuple=self._on_tuple
                )
                self._broker.publish(self.id, self._engine.gossip_value())
            for broker in net.brokers:
                self._gossip_clients.append(
                    GossipClient(
                        context=self._context,
                        endpoint=broker,
                        key=self.id,
                        value=self._engine.gossip_value(),
                        on_tuple=self._on_tuple,
                    )
                )
            if broadcast is not None:
                self.broadcast = broadcast
                self._beacon = BeaconEndpoint(
                    port=net.port,
                    broadcast=broadcast,
                    interval=net.beacon_interval,
                    on_beacon=self._on_beacon,
                )
                await self._beacon.start(self._engine.own_beacon(self._inbox_port()))
        except BaseException:
            self._close_all()
            self._stopped = True
            raise
        self._flush()

    def _choose_addresses(self) -> tuple[str, str | None]:
        """(IP to bind the inbox on, broadcast address for beacons or None in broker mode)."""
        net = self.network
        if net.broker_mode:
            if net.endpoint is not None:
                return check_tcp_endpoint(net.endpoint)[0], None
            if net.brokers:
                return _local_address_towards(check_tcp_endpoint(net.brokers[0])[0]), None
            assert net.broker_bind is not None
            host = check_tcp_endpoint(net.broker_bind)[0]
            return ("127.0.0.1" if host in ("*", "0.0.0.0") else host), None
        if net.device is not None or net.ip is not None:
            iface = find_interface(device=net.device, ip=net.ip)
        else:
            iface, reason = default_interface()
            logger.info("discovery on %s: %s", iface.name, reason)
        assert iface.address is not None
        return iface.address, broadcast_address(iface)

    def _bind_inbox(self, ip: str) -> str:
        assert self._inbox is not None
        net = self.network
        target = net.endpoint if net.endpoint is not None else f"tcp://{ip}:*"
        host, port = check_tcp_endpoint(target)
        if port is None:
            target = f"tcp://{host}:*"
        try:
            self._inbox.bind(target)
        except zmq.ZMQError as error:
            hint = (
                "the port is in use: choose another --endpoint port"
                if error.errno == zmq.EADDRINUSE
                else "is that address one of this host's? (patchwire doctor lists them)"
            )
            raise NetworkError(f"cannot bind the inbox on {target}: {error}; {hint}") from error
        bound = self._inbox.getsockopt_string(zmq.LAST_ENDPOINT)
        host_bound, port_bound = bound[6:].rsplit(":", 1)
        if host_bound in ("0.0.0.0", "*"):
            host_bound = ip if ip not in ("*", "0.0.0.0") else "127.0.0.1"
        return f"tcp://{host_bound}:{port_bound}"

    def _inbox_port(self) -> int:
        assert self.endpoint is not None
        return int(self.endpoint.rsplit(":", 1)[1])

    async def stop(self) -> None:
        """Say goodbye (GOODBYE to every peer, a port-0 beacon) and release everything.

        Idempotent. Event streams end after the events already queued.
        """
        if self._stopped:
            return
        self._stopped = True
        engine = self._engine
        if engine is not None:
            self._check_thread()
            engine.stop()
            self._execute(engine.drain_actions(), linger_ms=200)
            self._dispatch(engine.drain_events())
            if self._beacon is not None:
                self._beacon.stop(engine.own_beacon(0))
                self._beacon = None
        self._close_all()
        for stream in list(self._streams):
            stream._close()
        self._wake_waiters()

    def _close_all(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._beacon is not None:
            self._beacon.stop(None)
            self._beacon = None
        for client in self._gossip_clients:
            client.close()
        self._gossip_clients.clear()
        if self._broker is not None:
            self._broker.close()
            self._broker = None
        if self._inbox_watcher is not None:
            self._inbox_watcher.close()
            self._inbox_watcher = None
        if self._inbox is not None:
            self._inbox.close(linger=0)
            self._inbox = None
        for dealer in self._dealers.values():
            dealer.close(linger=0)
        self._dealers.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ commands

    def join(self, group: str) -> None:
        """Join ``group`` (now, or at start when called before)."""
        if self._engine is None:
            if group not in self._pending_groups:
                self._pending_groups.append(group)
            return
        self._running_engine().join(group)
        self._flush()

    def leave(self, group: str) -> None:
        if self._engine is None:
            if group in self._pending_groups:
                self._pending_groups.remove(group)
            return
        self._running_engine().leave(group)
        self._flush()

    def join_election(self, election: str) -> None:
        """Stand in ``election`` (group ``"\\o/ " + election``); results arrive as
        :class:`~patchwire.ElectionWon` / :class:`~patchwire.ElectionLost` events."""
        if self._engine is None:
            self._pending_elections.append(election)
            return
        self._running_engine().join_election(election)
        self._flush()

    def leave_election(self, election: str) -> None:
        if self._engine is None:
            if election in self._pending_elections:
                self._pending_elections.remove(election)
            return
        self._running_engine().leave_election(election)
        self._flush()

    def whisper(self, peer: str, *content: bytes | str) -> None:
        """Send frames to one ready peer (UUID, or a unique name)."""
        engine = self._running_engine()
        engine.whisper(self._resolve(peer), [_frame(part) for part in content])
        self._flush()

    def shout(self, group: str, *content: bytes | str) -> int:
        """Send frames to every ready peer in ``group``; returns how many it reached."""
        engine = self._running_engine()
        count = engine.shout(group, [_frame(part) for part in content])
        self._flush()
        return count

    # ------------------------------------------------------------------ queries

    @property
    def groups(self) -> tuple[str, ...]:
        if self._engine is None:
            return tuple(self._pending_groups)
        return self._engine.groups

    def peers(self) -> list[PeerInfo]:
        """Ready peers, in arrival order."""
        if self._engine is None:
            return []
        return [self._info(peer_id) for peer_id in self._engine.peers()]

    def peer(self, peer: str) -> PeerInfo:
        """A ready peer by UUID or unique name; raises :class:`UnknownNameError`."""
        return self._info(self._resolve(peer))

    def group_peers(self, group: str) -> list[PeerInfo]:
        if self._engine is None:
            return []
        return [self._info(peer_id) for peer_id in self._engine.group_peers(group)]

    async def wait_brokers(self, *, timeout: float) -> None:
        """Wait until every broker answered; raises :class:`NetworkError` naming the silent ones."""
        clients = self._gossip_clients
        if not clients:
            return
        waits = [asyncio.ensure_future(client.answered.wait()) for client in clients]
        _, pending = await asyncio.wait(waits, timeout=timeout)
        for task in pending:
            task.cancel()
        silent = [client.endpoint for client in clients if not client.answered.is_set()]
        if silent:
            raise NetworkError(
                f"broker {', '.join(silent)} did not answer within {timeout:g} s: is it running, "
                "and is the endpoint reachable from here (host, port, firewall)?"
            )

    def leader(self, election: str) -> str | None:
        """UUID of the last elected leader of ``election``, if any."""
        if self._engine is None:
            return None
        return self._engine.leader("\\o/ " + election)

    def statistics(self) -> NodeStatistics:
        if self._engine is None:
            raise StateError("statistics exist once the node is started")
        engine_stats = self._engine.statistics()
        counters = {f.name: getattr(engine_stats, f.name) for f in fields(engine_stats)}
        return NodeStatistics(
            peers=len(self._engine.peers()),
            beacons_sent=self._beacon.sent if self._beacon is not None else 0,
            decode_errors=self._decode_errors
            + (self._beacon.decode_errors if self._beacon is not None else 0),
            send_drops=self._send_drops,
            events_dropped=self._events_dropped,
            **counters,
        )

    # ------------------------------------------------------------------ events and waits

    def events(self, maxsize: int | None = None) -> EventStream:
        """A new stream of every event from now on (use ``async for`` or ``get()``)."""
        stream = EventStream(self, maxsize or self._event_queue_size)
        self._streams.add(stream)
        if self._stopped:
            stream._close()
        return stream

    def on_event(self, callback: Callable[[PeerEvent], None]) -> None:
        """Call ``callback(event)`` on the loop thread for every event."""
        self._callbacks.append(callback)

    async def wait_until(self, condition: Callable[[], T | None], *, timeout: float) -> T:
        """Wait until ``condition()`` returns something other than None (checked after every
        batch of events); raises :class:`patchwire.TimeoutError` at the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = condition()
            if result is not None:
                return result
            if self._stopped:
                raise ClosedError(f"node {self.name!r} stopped while waiting")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(asyncio.shield(waiter), remaining)
            except builtins.TimeoutError:
                pass
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    async def wait_peer(self, peer: str, *, timeout: float) -> PeerInfo:
        """Wait until a peer with this name or UUID is ready."""

        def find() -> PeerInfo | None:
            try:
                return self.peer(peer)
            except UnknownNameError:
                return None

        try:
            return await self.wait_until(find, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(f"peer {peer!r} did not appear within {timeout} s") from None

    # ------------------------------------------------------------------ internals

    def _running_engine(self) -> ZreEngine:
        if self._stopped:
            raise ClosedError(f"node {self.name!r} is stopped")
        if self._engine is None:
            raise StateError(f"node {self.name!r} is not started; call await node.start()")
        self._check_thread()
        return self._engine

    def _check_thread(self) -> None:
        if self._thread is not None and threading.get_ident() != self._thread:
            raise WrongThreadError(
                f"node {self.name!r} belongs to its event loop thread; use "
                "loop.call_soon_threadsafe() or the patchwire.sync facade"
            )

    def _resolve(self, peer: str) -> str:
        engine = self._engine
        if engine is None:
            raise UnknownNameError(f"no peer {peer!r}: the node is not started")
        ids = engine.peers()
        if peer.upper() in ids:
            return peer.upper()
        named = [peer_id for peer_id in ids if engine.peer_name(peer_id) == peer]
        if len(named) == 1:
            return named[0]
        if named:
            raise UnknownNameError(
                f"{len(named)} peers are named {peer!r} ({', '.join(named)}); use a UUID"
            )
        known = ", ".join(f"{engine.peer_name(i)} ({i})" for i in ids) or "none"
        raise UnknownNameError(f"no ready peer {peer!r}; ready peers: {known}")

    def _info(self, peer_id: str) -> PeerInfo:
        engine = self._engine
        assert engine is not None
        return PeerInfo(
            id=peer_id,
            name=engine.peer_name(peer_id),
            endpoint=engine.peer_endpoint(peer_id),
            headers=engine.peer_headers(peer_id),
            groups=frozenset(engine.peer_groups(peer_id)),
        )

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _on_beacon(self, beacon: Beacon, source_ip: str) -> None:
        if self._engine is not None and not self._stopped:
            self._engine.handle_beacon(beacon, source_ip, self._now())
            self._flush()

    def _on_tuple(self, key: str, value: str) -> None:
        if self._engine is not None and not self._stopped:
            self._engine.handle_gossip_tuple(key, value, self._now())
            self._flush()

    def _on_inbox(self, frames: list[bytes]) -> None:
        engine = self._engine
        if engine is None or self._stopped:
            return
        routing_id = frames[0]
        if len(routing_id) != 17 or len(frames) < 2:
            self._decode_errors += 1
            self._log.warning(
                "identity", "message with a %d-byte identity dropped", len(routing_id)
            )
            return
        try:
            message = decode_message(frames[1:])
        except DecodeError as error:
            self._decode_errors += 1
            peer = routing_id[1:].hex().upper()
            self._log.warning(peer, "undecodable message from %s dropped: %s", peer, error)
            return
        engine.handle_message(routing_id[1:], message, self._now())
        self._flush()

    def _on_timer(self) -> None:
        self._timer = None
        if self._engine is None or self._stopped:
            return
        self._engine.handle_timer(self._now())
        self._flush()

    def _flush(self) -> None:
        engine = self._engine
        if engine is None:
            return
        self._execute(engine.drain_actions())
        events = engine.drain_events()
        if events:
            self._dispatch(events)
        self._schedule(engine.next_deadline())

    def _schedule(self, deadline: float | None) -> None:
        if self._stopped or deadline is None or self._loop is None:
            return
        if self._timer is not None:
            if self._timer.when() <= deadline:
                return
            self._timer.cancel()
        self._timer = self._loop.call_at(deadline, self._on_timer)

    def _execute(self, actions: Sequence[EngineAction], linger_ms: int = 0) -> None:
        for action in actions:
            if isinstance(action, SendFrames):
                dealer = self._dealers.get(action.peer)
                if dealer is None:
                    continue
                try:
                    dealer.send_multipart(action.frames, zmq.NOBLOCK)
                except zmq.Again:
                    self._send_drops += 1
                    self._log.warning(
                        "drop", "peer %s is not reading: message dropped", action.peer.hex()
                    )
            elif isinstance(action, Connect):
                self._connect(action)
            elif isinstance(action, Disconnect):
                dealer = self._dealers.pop(action.peer, None)
                if dealer is not None:
                    dealer.close(linger=linger_ms)
            elif isinstance(action, Notice):
                self._log.warning(action.peer, "peer %s: %s", action.peer, action.text)

    def _connect(self, action: Connect) -> None:
        assert self._context is not None
        old = self._dealers.pop(action.peer, None)
        if old is not None:
            old.close(linger=0)
        try:
            dealer = self._context.socket(zmq.DEALER)
        except zmq.ZMQError as error:
            self._send_drops += 1
            self._log.warning(
                "sockets", "cannot open a socket for peer %s: %s", action.peer.hex(), error
            )
            return
        dealer.setsockopt(zmq.IDENTITY, b"\x01" + self.uuid.bytes)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.SNDHWM, int(self.settings.expired * 100))
        dealer.setsockopt(zmq.SNDTIMEO, 0)
        try:
            dealer.connect(action.endpoint)
        except zmq.ZMQError as error:
            dealer.close(linger=0)
            self._log.warning(
                action.peer.hex(), "cannot connect to peer at %s: %s", action.endpoint, error
            )
            return
        self._dealers[action.peer] = dealer

    def _dispatch(self, events: Sequence[PeerEvent]) -> None:
        for event in events:
            if isinstance(event, PeerExited) and event.reason in ("left", "goodbye"):
                if self._broker is not None:
                    self._broker.forget(event.peer)
            for stream in self._streams:
                stream._put(event)
            for callback in self._callbacks:
                try:
                    callback(event)
                except Exception:
                    logger.exception("event callback %r failed", callback)
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


def _frame(part: bytes | str) -> bytes:
    return part.encode() if isinstance(part, str) else bytes(part)


def _local_address_towards(host: str) -> str:
    """The local IPv4 address the kernel would use to reach ``host`` (no packet is sent)."""
    if host in ("*", "0.0.0.0", "localhost") or host.startswith("127."):
        return "127.0.0.1"
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((host, 9))  # UDP connect only picks a route
        address: str = probe.getsockname()[0]
        return address
    except OSError as error:
        raise NetworkError(
            f"no route to broker host {host!r}: {error}; give --endpoint tcp://MY_IP:PORT"
        ) from error
    finally:
        probe.close()
