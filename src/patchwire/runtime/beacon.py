"""BeaconEndpoint: UDP discovery beacons, sent to a broadcast address and heard on 0.0.0.0.

Layer: runtime. One socket bound to ``0.0.0.0:port`` with SO_REUSEADDR, SO_REUSEPORT and
SO_BROADCAST: every process on the host gets its own copy of each broadcast (Zyre nodes
included), and our beacons leave with the beacon port as source port, as Zyre's do.
Byte-identical copies of our own beacon (the broadcast echo) are dropped here.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import cast

from patchwire.errors import DecodeError, NetworkError
from patchwire.protocol.zre.beacon import BEACON_PREFIX, Beacon, decode_beacon

from .logs import RateLimitedLog

__all__ = ["BeaconEndpoint", "open_beacon_socket"]

logger = logging.getLogger("patchwire.beacon")


def open_beacon_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.bind(("0.0.0.0", port))
    except OSError as error:
        sock.close()
        raise NetworkError(
            f"cannot listen for beacons on UDP port {port}: {error.strerror or error}. "
            "Another program holds it without SO_REUSEPORT, or the port is privileged; "
            "choose another --port (every node of a platform must use the same one)"
        ) from error
    sock.setblocking(False)
    return sock


class BeaconEndpoint(asyncio.DatagramProtocol):
    """Sends our beacon every ``interval`` seconds and reports decoded beacons of others."""

    def __init__(
        self,
        *,
        port: int,
        broadcast: str,
        interval: float,
        on_beacon: Callable[[Beacon, str], None],
    ) -> None:
        self.port = port
        self.broadcast = broadcast
        self.interval = interval
        self._on_beacon = on_beacon
        self._transport: asyncio.DatagramTransport | None = None
        self._own: bytes = b""
        self._timer: asyncio.TimerHandle | None = None
        self._log = RateLimitedLog(logger)
        self.sent = 0
        self.received = 0
        self.decode_errors = 0
        self.send_errors = 0

    async def start(self, beacon: Beacon) -> None:
        loop = asyncio.get_running_loop()
        sock = open_beacon_socket(self.port)
        self._own = beacon.encode()
        await loop.create_datagram_endpoint(lambda: self, sock=sock)
        self._send_and_rearm()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # CPython's selector datagram transport does not inherit DatagramTransport: no isinstance.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if data == self._own or not data.startswith(BEACON_PREFIX):
            return
        self.received += 1
        try:
            beacon = decode_beacon(data)
        except DecodeError as error:
            self.decode_errors += 1
            self._log.warning(str(addr[0]), "bad beacon from %s: %s", addr[0], error)
            return
        self._on_beacon(beacon, str(addr[0]))

    def error_received(self, exc: Exception) -> None:
        self.send_errors += 1
        self._log.warning("error", "beacon socket error: %s", exc)

    def _send(self, payload: bytes) -> None:
        if self._transport is None:
            return
        try:
            self._transport.sendto(payload, (self.broadcast, self.port))
            self.sent += 1
        except OSError as error:
            self.send_errors += 1
            self._log.warning("send", "cannot send beacon to %s: %s", self.broadcast, error)

    def _send_and_rearm(self) -> None:
        self._send(self._own)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.interval, self._send_and_rearm)

    def stop(self, farewell: Beacon | None) -> None:
        """Stop beaconing; send ``farewell`` (the port-0 beacon) a few times first."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if farewell is not None:
            payload = farewell.encode()
            for _ in range(2):  # UDP may drop one; receivers ignore unknown UUIDs
                self._send(payload)
        if self._transport is not None:
            self._transport.close()
            self._transport = None
