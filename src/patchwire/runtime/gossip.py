"""Gossip (zgossip v1) I/O: a client per broker we use, and a broker others can use.

Layer: runtime. The decisions live in :mod:`patchwire.protocol.zre.gossip_engine`; this module
owns the sockets. A client re-greets its broker on every (re)connection, so a restarted broker
learns our tuple again (CZMQ's client does the same by monitoring its socket).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import zmq

from patchwire.errors import NetworkError
from patchwire.protocol.zre.gossip_engine import GossipBrokerEngine, GossipClientEngine

from .sockets import Watcher

__all__ = ["GossipBroker", "GossipClient"]

logger = logging.getLogger("patchwire.gossip")

TupleSink = Callable[[str, str], None]


class GossipClient:
    """A DEALER to one broker: HELLO, our tuple, PINGs; tuples received go to ``on_tuple``."""

    def __init__(
        self,
        *,
        context: zmq.Context[zmq.Socket[bytes]],
        endpoint: str,
        key: str,
        value: str,
        on_tuple: TupleSink,
    ) -> None:
        self.endpoint = endpoint
        self._loop = asyncio.get_running_loop()
        self._on_tuple = on_tuple
        self.engine = GossipClientEngine(key=key, value=value, now=self._loop.time())
        self.answered = asyncio.Event()
        self._socket: zmq.Socket[bytes] = context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._monitor = self._socket.get_monitor_socket(zmq.EVENT_CONNECTED)
        try:
            self._socket.connect(endpoint)
        except zmq.ZMQError as error:
            self._close_sockets()
            raise NetworkError(f"cannot connect to broker {endpoint}: {error}") from error
        self._watcher = Watcher(self._loop, self._socket, self._on_frames)
        self._monitor_watcher = Watcher(self._loop, self._monitor, self._on_monitor)
        self._timer: asyncio.TimerHandle | None = None
        self._schedule()

    def _send(self, frames: list[bytes]) -> None:
        for frame in frames:
            try:
                self._socket.send(frame, zmq.NOBLOCK)
            except zmq.Again:
                logger.debug("gossip to %s: queue full, frame dropped", self.endpoint)
        if frames:
            self._watcher.kick()

    def _on_monitor(self, frames: list[bytes]) -> None:
        # Every (re)connection: greet again, so a restarted broker learns us.
        self._send(self.engine.greeting(self._loop.time()))

    def _on_frames(self, frames: list[bytes]) -> None:
        self.answered.set()
        for frame in frames:
            self._send(self.engine.handle(frame, self._loop.time()))
        for key, value in self.engine.drain_tuples():
            self._on_tuple(key, value)

    def _on_timer(self) -> None:
        self._send(self.engine.handle_timer(self._loop.time()))
        self._schedule()

    def _schedule(self) -> None:
        self._timer = self._loop.call_at(self.engine.next_deadline(), self._on_timer)

    def _close_sockets(self) -> None:
        self._socket.disable_monitor()
        self._monitor.close(linger=0)
        self._socket.close(linger=0)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._watcher.close()
        self._monitor_watcher.close()
        self._close_sockets()


class GossipBroker:
    """A ROUTER that any ZRE node (patchwire or Zyre/Ingescape) can use as a broker."""

    def __init__(
        self,
        *,
        context: zmq.Context[zmq.Socket[bytes]],
        endpoint: str,
        on_tuple: TupleSink,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_tuple = on_tuple
        self.engine = GossipBrokerEngine()
        self._socket: zmq.Socket[bytes] = context.socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, 0)
        try:
            self._socket.bind(endpoint)
        except zmq.ZMQError as error:
            self._socket.close(linger=0)
            raise NetworkError(
                f"cannot run a broker on {endpoint}: {error}. Is another broker or agent "
                "already bound there? Choose another port"
            ) from error
        self.endpoint = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self._watcher = Watcher(self._loop, self._socket, self._on_frames)
        self._timer = self._loop.call_later(5.0, self._on_timer)

    def publish(self, key: str, value: str) -> None:
        self._send(self.engine.publish(key, value))

    def forget(self, key: str) -> None:
        self.engine.forget(key)

    def _send(self, messages: list[tuple[bytes, bytes]]) -> None:
        for routing_id, frame in messages:
            try:
                self._socket.send_multipart([routing_id, frame], zmq.NOBLOCK)
            except zmq.ZMQError:
                logger.debug("gossip broker: cannot send to a client; dropped")
        if messages:
            self._watcher.kick()

    def _on_frames(self, frames: list[bytes]) -> None:
        if len(frames) != 2:
            self.engine.decode_errors += 1
            return
        self._send(self.engine.handle(frames[0], frames[1], self._loop.time()))
        for key, value in self.engine.drain_learnt():
            self._on_tuple(key, value)

    def _on_timer(self) -> None:
        self.engine.handle_timer(self._loop.time())
        self._timer = self._loop.call_later(5.0, self._on_timer)

    def close(self) -> None:
        self._timer.cancel()
        self._watcher.close()
        self._socket.close(linger=0)
