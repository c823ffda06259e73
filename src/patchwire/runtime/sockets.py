"""ZeroMQ sockets driven by the asyncio loop: wake on the socket's FD, drain, repeat.

Layer: runtime. The ZMQ FD is edge-triggered: on each wake-up we read while ``EVENTS`` says
POLLIN (draining amortises the wake-up over every queued message), and after a send on a socket
we also read from, :meth:`Watcher.kick` re-checks, because a send can consume the edge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

import zmq

__all__ = ["Watcher"]

_BATCH = 4096  # messages per wake-up before yielding to the loop (fairness)


class Watcher:
    """Calls ``on_message(frames)`` for every multipart message received on ``socket``."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        socket: zmq.Socket[bytes],
        on_message: Callable[[list[bytes]], None],
    ) -> None:
        self._loop = loop
        self._socket = socket
        self._on_message = on_message
        self._fd = cast(int, socket.getsockopt(zmq.FD))
        self._scheduled = False
        self._closed = False
        loop.add_reader(self._fd, self._drain)
        self.kick()

    def kick(self) -> None:
        """Re-check the socket soon (after a send, or when a batch was cut short)."""
        if not self._scheduled and not self._closed:
            self._scheduled = True
            self._loop.call_soon(self._drain)

    def _drain(self) -> None:
        self._scheduled = False
        socket = self._socket
        for _ in range(_BATCH):
            if self._closed:
                return
            if not cast(int, socket.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
                return
            try:
                frames = socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self._on_message(frames)
        self.kick()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._loop.remove_reader(self._fd)
