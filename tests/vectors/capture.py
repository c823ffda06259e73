"""Capture golden vectors from real Ingescape 4.7 agents: ZRE messages, UDP beacons, zgossip.

Run by hand, as root, with an interpreter that has ``ingescape`` and ``pyzmq``::

    sudo /tmp/pwvenv/bin/python tests/vectors/capture.py [--out FILE.json]

What it does (see ``tests/vectors/README.md``):

* builds a private two-host LAN of network namespaces (``tests.support.netns.Lan``) and
  re-runs itself inside host 2 (``--inside``): every socket of the capture lives there;
* starts real agents with ``tests/interop/igs_peer.py`` (``secure_agent.py`` for CURVE):
  beacon mode on host 1's veth, broker mode on host 2's private 127.0.0.1;
* talks to them with its own pyzmq sockets (a ZRE ROUTER inbox + one DEALER per agent, a
  zgossip broker ROUTER, zgossip DEALERs) and a UDP listener, sending what it must with
  patchwire's codecs;
* writes every interesting frame it received as a record whose ``expected`` fields come
  from the small independent parser below (not from patchwire), then checks that
  patchwire decodes each record to the same fields and re-encodes it byte for byte, and
  prints any disagreement (a codec bug, or a surprise in the real bytes).

Hazards avoided on purpose (``shared/spec/zre.md``): our HELLO has no ``publisher``
header; JOIN status bytes are exactly previous+1; we never shout on ``*-IGS-REPLAY``; we
never answer a HELLO from a ready peer with a HELLO; every gossip frame we send is
well formed. Every agent has a self-stop deadline and is killed by PID at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import itertools
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq
import zmq.utils.z85

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT, ROOT / "src"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from patchwire.errors import DecodeError  # noqa: E402
from patchwire.protocol.zre.beacon import Beacon, decode_beacon  # noqa: E402
from patchwire.protocol.zre.gossip import (  # noqa: E402
    GossipHello,
    GossipMessage,
    GossipPing,
    GossipPublish,
    decode_gossip,
)
from patchwire.protocol.zre.messages import (  # noqa: E402
    VERSION,
    Elect,
    Hello,
    Join,
    Leader,
    Leave,
    Message,
    Ping,
    PingOk,
    Shout,
    Whisper,
    decode_message,
)
from patchwire.protocol.zre.z85 import z85_encode  # noqa: E402
from tests.support.igs import IgsPeer, free_tcp_port  # noqa: E402
from tests.support.netns import Host, Lan, list_namespaces  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "zre_ingescape_4.7.0.json"
SECURE_AGENT = Path(__file__).resolve().parent / "secure_agent.py"

CHILD_TIMEOUT = 240.0
"""Hard limit for the whole capture (the child process is killed after it)."""
AGENT_MAX_SECONDS = 75.0
"""Self-stop deadline of every agent (igs_peer.py ``--max-seconds``)."""
STEP_TIMEOUT = 10.0
PING_WAIT = 9.0
"""How long we stay silent waiting for the agent's PING (evasive 5 s, expiry 8 s)."""

BEACON_PORT = 5670
SECURE_BEACON_PORT = 5671
AGENT = "golden_agent"
SECURE_AGENT_NAME = "golden_secure"
GOSSIP_CLIENT_AGENT = "golden_gossip_client"
GOSSIP_BROKER_AGENT = "golden_gossip_broker"
CAPTURE_NAME = "pw_capture"
CAPTURE_HEADERS = {"x-capture": "patchwire golden vectors"}
AGENT_HEADER = "x-golden=1"
HELLO_CHANNEL = "GOLDEN_CHAN"
LATE_CHANNEL = "GOLDEN_LATE"
ELECTION = "E1"
ELECTION_GROUP = "\\o/ " + ELECTION
PRIVATE_GROUP = "INGESCAPE_PRIVATE"
SHOUT_TEXT = "golden shout from ingescape"
WHISPER_TEXT = "golden whisper from ingescape"

REQUIRED = (
    "hello_from_agent",
    "whisper_private_external_definition",
    "whisper_channel_str",
    "shout_channel_str",
    "join_from_agent",
    "leave_from_agent",
    "ping_from_agent",
    "ping_ok_from_agent",
    "elect_from_agent",
    "leader_from_agent",
    "goodbye_from_agent",
    "gossip_hello_from_agent",
    "gossip_publish_from_agent",
    "gossip_pong_from_agent",
    "gossip_invalid_from_agent",
    "beacon_v1_from_agent",
    "beacon_v1_leaving_from_agent",
    "beacon_v3_from_secure_agent",
)


class CaptureError(RuntimeError):
    """A step of the capture did not happen as expected."""


def log(text: str) -> None:
    print(f"[capture {time.strftime('%H:%M:%S')}] {text}", flush=True)


# ---------------------------------------------------------------------------
# Independent reference parser (from shared/spec/zre.md §2.1, §4, §11.2; no patchwire)
# ---------------------------------------------------------------------------

ZRE_NAMES = {
    1: "HELLO",
    2: "WHISPER",
    3: "SHOUT",
    4: "JOIN",
    5: "LEAVE",
    6: "PING",
    7: "PING_OK",
    8: "ELECT",
    9: "LEADER",
    10: "GOODBYE",
}
GOSSIP_NAMES = {1: "HELLO", 2: "PUBLISH", 3: "PING", 4: "PONG", 5: "INVALID"}


class _Cursor:
    def __init__(self, data: bytes, offset: int) -> None:
        self.data = data
        self.offset = offset

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise ValueError(f"truncated at {self.offset} (+{size}) of {len(self.data)}")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def text(self, size: int) -> str:
        return self.take(size).decode("utf-8", "surrogateescape")

    def string(self) -> str:
        return self.text(self.number(1))

    def longstr(self) -> str:
        return self.text(self.number(4))


@dataclass
class Parsed:
    fields: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def ref_zre(frames: Sequence[bytes]) -> Parsed:
    """Fields of one ZRE message (frames without routing id), parsed from the spec."""
    head = frames[0]
    signature, message_id, version, sequence = struct.unpack_from(">HBBH", head)
    if signature != 0xAAA1 or message_id not in ZRE_NAMES:
        raise ValueError(f"not a ZRE message: {head[:8].hex()}")
    kind = ZRE_NAMES[message_id]
    out: dict[str, Any] = {
        "type": kind,
        "id": message_id,
        "version": version,
        "sequence": sequence,
    }
    cur = _Cursor(head, 6)
    if kind == "HELLO":
        out["endpoint"] = cur.string()
        out["groups"] = [cur.longstr() for _ in range(cur.number(4))]
        out["status"] = cur.number(1)
        out["name"] = cur.string()
        out["headers"] = [[cur.string(), cur.longstr()] for _ in range(cur.number(4))]
    elif kind in ("SHOUT", "JOIN", "LEAVE", "ELECT", "LEADER"):
        out["group"] = cur.string()
        if kind in ("JOIN", "LEAVE"):
            out["status"] = cur.number(1)
        elif kind == "ELECT":
            out["challenger"] = cur.string()
        elif kind == "LEADER":
            out["leader"] = cur.string()
    notes = []
    if cur.offset != len(head):
        notes.append(f"{len(head) - cur.offset} trailing bytes after the last field of frame 0")
    if kind in ("WHISPER", "SHOUT"):
        out["content"] = [frame.hex() for frame in frames[1:]]
        if not frames[1:]:
            notes.append(f"{kind} without content frames")
        notes.extend(f"content frame {i} is empty" for i, f in enumerate(frames[1:]) if not f)
    elif len(frames) > 1:
        notes.append(f"{kind} followed by {len(frames) - 1} extra frame(s)")
    if version != 2:
        notes.append(f"version byte {version}")
    return Parsed(out, notes)


def ref_beacon(data: bytes) -> Parsed:
    """Fields of one UDP beacon, parsed from the spec."""
    if len(data) not in (22, 54) or data[:3] != b"ZRE":
        raise ValueError(f"not a beacon: {data.hex()}")
    version = data[3]
    port = int.from_bytes(data[20:22], "big")
    key = data[22:] or None
    out = {
        "protocol": "ZRE",
        "version": version,
        "uuid": data[4:20].hex().upper(),
        "port": port,
        "leaving": port == 0,
        "public_key": key.hex() if key else None,
        "public_key_z85": zmq.utils.z85.encode(key).decode() if key else None,
    }
    return Parsed(out)


def ref_gossip(frame: bytes) -> Parsed:
    """Fields of one zgossip frame, parsed from the spec."""
    signature, message_id, version = struct.unpack_from(">HBB", frame)
    if signature != 0xAAA0 or message_id not in GOSSIP_NAMES:
        raise ValueError(f"not a zgossip message: {frame[:8].hex()}")
    kind = GOSSIP_NAMES[message_id]
    out: dict[str, Any] = {"type": kind, "id": message_id, "version": version}
    cur = _Cursor(frame, 4)
    if kind == "PUBLISH":
        out["key"] = cur.string()
        out["value"] = cur.longstr()
        out["ttl"] = cur.number(4)
    notes = []
    if cur.offset != len(frame):
        notes.append(f"{len(frame) - cur.offset} trailing bytes")
    return Parsed(out, notes)


# ---------------------------------------------------------------------------
# patchwire's view of the same bytes (same shape as the reference fields)
# ---------------------------------------------------------------------------


def pw_zre_fields(msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": msg.ID.name,
        "id": int(msg.ID),
        "version": VERSION,
        "sequence": msg.sequence,
    }
    if isinstance(msg, Hello):
        out.update(
            endpoint=msg.endpoint,
            groups=list(msg.groups),
            status=msg.status,
            name=msg.name,
            headers=[[k, v] for k, v in msg.headers.items()],
        )
    elif isinstance(msg, Shout):
        out["group"] = msg.group
    elif isinstance(msg, Join | Leave):
        out.update(group=msg.group, status=msg.status)
    elif isinstance(msg, Elect):
        out.update(group=msg.group, challenger=msg.challenger)
    elif isinstance(msg, Leader):
        out.update(group=msg.group, leader=msg.leader)
    if isinstance(msg, Whisper | Shout):
        out["content"] = [frame.hex() for frame in msg.content]
    return out


def pw_beacon_fields(beacon: Beacon) -> dict[str, Any]:
    key = beacon.public_key
    return {
        "protocol": "ZRE",
        "version": beacon.version,
        "uuid": beacon.uuid.hex.upper(),
        "port": beacon.port,
        "leaving": beacon.leaving,
        "public_key": key.hex() if key else None,
        "public_key_z85": z85_encode(key) if key else None,
    }


def pw_gossip_fields(msg: GossipMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"type": msg.ID.name, "id": int(msg.ID), "version": 1}
    if isinstance(msg, GossipPublish):
        out.update(key=msg.key, value=msg.value, ttl=msg.ttl)
    return out


def codec_problems(kind: str, frames: list[bytes], expected: dict[str, Any]) -> list[str]:
    """Where patchwire disagrees with the reference fields or fails to re-encode."""
    try:
        if kind == "zre":
            msg = decode_message(frames)
            actual, encoded = pw_zre_fields(msg), msg.encode()
        elif kind == "beacon":
            beacon = decode_beacon(frames[0])
            actual, encoded = pw_beacon_fields(beacon), [beacon.encode()]
        else:
            gossip = decode_gossip(frames[0])
            actual, encoded = pw_gossip_fields(gossip), [gossip.encode()]
    except (DecodeError, ValueError) as exc:
        return [f"patchwire failed to decode: {exc!r}"]
    problems = [
        f"field {key}: patchwire {actual.get(key)!r} != captured {value!r}"
        for key, value in expected.items()
        if actual.get(key) != value
    ]
    problems += [f"patchwire has an extra field {key}" for key in actual if key not in expected]
    if list(encoded) != list(frames):
        problems.append(
            "re-encoding differs: "
            f"{[f.hex() for f in encoded]} != captured {[f.hex() for f in frames]}"
        )
    return problems


# ---------------------------------------------------------------------------
# Capture plumbing: zmq hub, ZRE node, beacon listener, recorder
# ---------------------------------------------------------------------------


@dataclass
class Inbound:
    """One multipart message received by one of our sockets."""

    index: int
    t: float
    label: str
    routing_id: bytes | None
    frames: list[bytes]
    fields: dict[str, Any] | None

    @property
    def type(self) -> str | None:
        return None if self.fields is None else self.fields.get("type")

    @property
    def sender(self) -> str | None:
        """UUID string of a ZRE sender (from the 17-byte routing id)."""
        rid = self.routing_id
        return rid[1:].hex().upper() if rid and len(rid) == 17 else None


class Hub:
    """All our zmq sockets, polled from the main thread; every inbound message is logged."""

    def __init__(self) -> None:
        self.ctx = zmq.Context()
        self.poller = zmq.Poller()
        self.handlers: dict[zmq.Socket[bytes], Callable[[list[bytes]], None]] = {}
        self.t0 = time.monotonic()
        self.inbound: list[Inbound] = []

    def now(self) -> float:
        return time.monotonic() - self.t0

    def socket(self, kind: int, on_frames: Callable[[list[bytes]], None]) -> zmq.Socket[bytes]:
        sock: zmq.Socket[bytes] = self.ctx.socket(kind)
        sock.linger = 0
        sock.sndtimeo = 2000
        self.poller.register(sock, zmq.POLLIN)
        self.handlers[sock] = on_frames
        return sock

    def close_socket(self, sock: zmq.Socket[bytes]) -> None:
        if sock in self.handlers:
            self.poller.unregister(sock)
            del self.handlers[sock]
        sock.close(0)

    def add(
        self,
        label: str,
        routing_id: bytes | None,
        frames: list[bytes],
        fields: dict[str, Any] | None,
    ) -> Inbound:
        entry = Inbound(len(self.inbound), self.now(), label, routing_id, frames, fields)
        self.inbound.append(entry)
        return entry

    def pump(self, timeout: float, until: Callable[[], bool] | None = None) -> bool:
        """Receive for up to ``timeout`` seconds, or until ``until()`` is true."""
        deadline = time.monotonic() + timeout
        while True:
            if until is not None and until():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return until is None
            for sock, _ in self.poller.poll(max(1, int(min(remaining, 0.05) * 1000))):
                while True:
                    try:
                        frames = sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.handlers[sock](frames)

    def expect(
        self,
        what: str,
        predicate: Callable[[Inbound], bool],
        timeout: float = STEP_TIMEOUT,
        start: int = 0,
    ) -> Inbound:
        """The first logged message (from index ``start``) matching ``predicate``."""
        found: list[Inbound] = []

        def match() -> bool:
            found[:] = [m for m in self.inbound[start:] if predicate(m)][:1]
            return bool(found)

        if not self.pump(timeout, match):
            seen = [f"{m.label}:{m.type}" for m in self.inbound[start:]]
            raise CaptureError(f"timeout after {timeout}s waiting for {what}; got {seen}")
        return found[0]

    def close(self) -> None:
        for sock in list(self.handlers):
            self.close_socket(sock)
        self.ctx.term()


@dataclass
class Link:
    """Our DEALER to one remote node."""

    dealer: zmq.Socket[bytes]
    sequence: int = 0
    inbound_sequence: int | None = None

    def next_sequence(self) -> int:
        self.sequence = (self.sequence + 1) & 0xFFFF
        return self.sequence


class ZreNode:
    """A minimal ZRE node of ours: ROUTER inbox + one DEALER per peer, answers PING."""

    def __init__(
        self, hub: Hub, label: str, ip: str, *, curve: tuple[bytes, bytes] | None = None
    ) -> None:
        self.hub = hub
        self.label = label
        self.uuid = uuid.uuid4()
        self.curve = curve
        self.status = 0
        self.groups: list[str] = []
        self.links: dict[str, Link] = {}
        self.anomalies: list[str] = []
        self.router = hub.socket(zmq.ROUTER, self._on_router)
        self.router.setsockopt(zmq.ROUTER_HANDOVER, 1)
        if curve is not None:
            self.router.curve_secretkey = curve[1]
            self.router.curve_server = True
        self.router.bind(f"tcp://{ip}:*")
        port = int(self.router.last_endpoint.decode().rsplit(":", 1)[1])
        self.endpoint = f"tcp://{ip}:{port}"

    @property
    def uuid_text(self) -> str:
        return self.uuid.hex.upper()

    def _on_router(self, frames: list[bytes]) -> None:
        rid, body = frames[0], frames[1:]
        try:
            fields: dict[str, Any] | None = ref_zre(body).fields
        except (ValueError, struct.error) as exc:
            fields = None
            self.anomalies.append(f"undecodable message from {rid.hex()}: {exc}")
        entry = self.hub.add(self.label, rid, body, fields)
        sender = entry.sender
        link = self.links.get(sender or "")
        if fields is None or link is None:
            if link is None:
                self.anomalies.append(f"{entry.type} from unknown routing id {rid.hex()}")
            return
        sequence = fields["sequence"]
        if fields["type"] == "HELLO":
            if link.inbound_sequence is not None:
                self.anomalies.append(f"re-HELLO from {sender} at t={entry.t:.3f} (not answered)")
            expected = 1
        else:
            expected = ((link.inbound_sequence or 0) + 1) & 0xFFFF
        if sequence != expected:
            self.anomalies.append(
                f"sequence gap from {sender}: expected {expected}, got {sequence}"
            )
        link.inbound_sequence = sequence
        if fields["type"] == "PING":
            self.send(sender or "", PingOk(sequence=link.next_sequence()))

    def connect(self, peer: str, endpoint: str, server_key: bytes | None = None) -> Link:
        dealer = self.hub.socket(zmq.DEALER, lambda frames: None)
        dealer.setsockopt(zmq.IDENTITY, b"\x01" + self.uuid.bytes)
        if self.curve is not None:
            if server_key is None:
                raise CaptureError("a CURVE node needs the peer's public key")
            dealer.curve_publickey, dealer.curve_secretkey = self.curve
            dealer.curve_serverkey = server_key
        dealer.connect(endpoint)
        link = Link(dealer)
        self.links[peer] = link
        return link

    def send(self, peer: str, msg: Message) -> None:
        self.links[peer].dealer.send_multipart(msg.encode())

    def hello(self, peer: str, headers: dict[str, str]) -> None:
        link = self.links[peer]
        self.send(
            peer,
            Hello(
                sequence=link.next_sequence(),
                endpoint=self.endpoint,
                groups=tuple(self.groups),
                status=self.status,
                name=CAPTURE_NAME,
                headers=headers,
            ),
        )

    def join(self, peer: str, group: str) -> None:
        """JOIN ``group`` (we have a single peer: status +1, exactly once per group)."""
        if group in self.groups:
            raise CaptureError(f"already in {group}")
        self.groups.append(group)
        self.status = (self.status + 1) & 0xFF
        link = self.links[peer]
        self.send(peer, Join(sequence=link.next_sequence(), group=group, status=self.status))

    def next_sequence(self, peer: str) -> int:
        return self.links[peer].next_sequence()

    def close(self) -> None:
        for link in self.links.values():
            self.hub.close_socket(link.dealer)
        self.links.clear()
        self.hub.close_socket(self.router)


@dataclass
class Datagram:
    t: float
    source: tuple[str, int]
    destination: str | None
    data: bytes


class BeaconListener:
    """UDP receiver on 0.0.0.0:port (REUSEADDR|REUSEPORT), in a thread; logs every datagram."""

    IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value; Python 3.11 lacks the name

    def __init__(self, port: int, t0: float) -> None:
        self.t0 = t0
        self.datagrams: list[Datagram] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.sock.setsockopt(socket.IPPROTO_IP, self.IP_PKTINFO, 1)
        self.sock.bind(("0.0.0.0", port))
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, ancillary, _flags, source = self.sock.recvmsg(2048, socket.CMSG_SPACE(12))
            except TimeoutError:
                continue
            except OSError:
                return
            destination = None
            for level, kind, payload in ancillary:
                if level == socket.IPPROTO_IP and kind == self.IP_PKTINFO and len(payload) >= 12:
                    destination = socket.inet_ntoa(payload[8:12])  # in_pktinfo.ipi_addr
            with self._cond:
                self.datagrams.append(
                    Datagram(time.monotonic() - self.t0, source, destination, data)
                )
                self._cond.notify_all()

    def wait(self, what: str, predicate: Callable[[Datagram], bool], timeout: float) -> Datagram:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for datagram in self.datagrams:
                    if predicate(datagram):
                        return datagram
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CaptureError(f"no {what} within {timeout}s")
                self._cond.wait(remaining)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2.0)
        self.sock.close()


class Recorder:
    """Builds the vector records and collects surprises and codec problems."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.records: list[dict[str, Any]] = []
        self.surprises: list[str] = []
        self.codec_bugs: list[str] = []

    def _add(
        self,
        name: str,
        kind: str,
        frames: list[bytes],
        parsed: Parsed,
        description: str,
        context: dict[str, Any],
    ) -> dict[str, Any]:
        if any(r["name"] == name for r in self.records):
            raise CaptureError(f"duplicate vector name {name}")
        record = {
            "name": name,
            "kind": kind,
            "source": self.source,
            "description": description,
            "context": context,
            "frames": [frame.hex() for frame in frames],
            "expected": parsed.fields,
        }
        self.records.append(record)
        self.surprises += [f"{name}: {note}" for note in parsed.notes]
        self.codec_bugs += [f"{name}: {p}" for p in codec_problems(kind, frames, parsed.fields)]
        log(f"recorded {name} ({kind}, {sum(len(f) for f in frames)} bytes)")
        return record

    def zre(self, name: str, entry: Inbound, description: str, **context: Any) -> dict[str, Any]:
        ctx = {
            "direction": "agent -> capture",
            "routing_id": entry.routing_id.hex() if entry.routing_id is not None else None,
            "received_at": round(entry.t, 3),
            **context,
        }
        return self._add(name, "zre", entry.frames, ref_zre(entry.frames), description, ctx)

    def beacon(
        self, name: str, datagram: Datagram, description: str, **context: Any
    ) -> dict[str, Any]:
        ctx = {
            "udp_source": f"{datagram.source[0]}:{datagram.source[1]}",
            "udp_destination": datagram.destination,
            "received_at": round(datagram.t, 3),
            **context,
        }
        return self._add(
            name, "beacon", [datagram.data], ref_beacon(datagram.data), description, ctx
        )

    def gossip(self, name: str, entry: Inbound, description: str, **context: Any) -> dict[str, Any]:
        ctx = {
            "routing_id": entry.routing_id.hex() if entry.routing_id is not None else None,
            "received_at": round(entry.t, 3),
            **context,
        }
        frames = entry.frames
        if len(frames) != 1:
            self.surprises.append(f"{name}: zgossip message with {len(frames)} frames")
        return self._add(name, "gossip", frames[:1], ref_gossip(frames[0]), description, ctx)

    def names(self) -> set[str]:
        return {r["name"] for r in self.records}


# ---------------------------------------------------------------------------
# The scenarios
# ---------------------------------------------------------------------------


def stop_agent(agent: IgsPeer, label: str, recorder: Recorder) -> None:
    rc = agent.stop(15.0)
    if rc != 0:
        recorder.surprises.append(f"{label}: agent exit code {rc}\n{agent.describe()}")
        raise CaptureError(f"{label}: the agent did not stop cleanly (rc {rc})")


def is_zre(entry: Inbound, kind: str, sender: str | None = None) -> bool:
    return entry.type == kind and (sender is None or entry.sender == sender)


def capture_beacon_mode(hub: Hub, rec: Recorder, h1: Host, h2: Host) -> None:
    """Agent beaconing on h1; we listen on h2, then speak ZRE to it over TCP."""
    listener = BeaconListener(BEACON_PORT, hub.t0)
    args = [
        *("--name", AGENT, "--device", h1.device, "--port", str(BEACON_PORT)),
        *("--election", ELECTION, "--channel", HELLO_CHANNEL, "--header", AGENT_HEADER),
    ]
    agent = IgsPeer(args, host=h1, max_seconds=AGENT_MAX_SECONDS)
    node: ZreNode | None = None
    try:
        agent.wait_ready(20.0)
        first = listener.wait(
            "v1 beacon from the agent",
            lambda d: d.source[0] == h1.ip and len(d.data) == 22 and d.data[20:22] != b"\0\0",
            STEP_TIMEOUT,
        )
        first_record = rec.beacon(
            "beacon_v1_from_agent",
            first,
            "First UDP beacon of a beacon-mode agent (igs.start_with_device on a veth).",
            agent=AGENT,
        )
        agent_uuid = first.data[4:20].hex().upper()
        agent_endpoint = f"tcp://{h1.ip}:{int.from_bytes(first.data[20:22], 'big')}"

        node = ZreNode(hub, "zre", h2.ip)
        node.connect(agent_uuid, agent_endpoint)
        node.hello(agent_uuid, CAPTURE_HEADERS)
        hello = hub.expect("the agent's HELLO", lambda m: is_zre(m, "HELLO", agent_uuid))
        rec.zre(
            "hello_from_agent",
            hello,
            "HELLO the agent sent back after our HELLO (it learnt us from our HELLO only). "
            f"Agent started with election {ELECTION!r}, channel {HELLO_CHANNEL!r} and "
            f"igs.peer_add_header({AGENT_HEADER!r}).",
            agent=AGENT,
        )
        agent.wait_for(
            {"kind": "agent_event", "event": "PEER_ENTERED", "name": CAPTURE_NAME}, STEP_TIMEOUT
        )

        # JOIN INGESCAPE_PRIVATE -> the agent whispers its definition, mapping and state.
        mark = len(hub.inbound)
        node.join(agent_uuid, PRIVATE_GROUP)
        hub.expect(
            "EXTERNAL_DEFINITION# whisper",
            lambda m: (
                is_zre(m, "WHISPER", agent_uuid) and m.frames[1:2] == [b"EXTERNAL_DEFINITION#"]
            ),
            start=mark,
        )
        hub.pump(1.0)  # the rest of the burst follows within milliseconds
        for entry in hub.inbound[mark:]:
            if not is_zre(entry, "WHISPER", agent_uuid) or len(entry.frames) < 2:
                continue
            title = re.sub(r"[^a-z0-9]+", "_", entry.frames[1].decode("ascii", "replace").lower())
            name = f"whisper_private_{title.strip('_')}"
            while name in rec.names():
                name += "_again"
            rec.zre(
                name,
                entry,
                f"WHISPER the agent sent when we JOINed {PRIVATE_GROUP} "
                f"(title frame {entry.frames[1]!r}).",
                agent=AGENT,
            )

        # channel_whisper_str to our node.
        mark = len(hub.inbound)
        ack = agent.request({"cmd": "whisper", "peer": node.uuid_text, "text": WHISPER_TEXT})
        peer_argument = node.uuid_text
        if ack.get("rc") != 0:
            rec.surprises.append(f"channel_whisper_str(peer uuid) -> {ack}; retried with name")
            ack = agent.request({"cmd": "whisper", "peer": CAPTURE_NAME, "text": WHISPER_TEXT})
            peer_argument = CAPTURE_NAME
        entry = hub.expect(
            "channel_whisper_str WHISPER",
            lambda m: is_zre(m, "WHISPER", agent_uuid) and m.frames[1:2] == [WHISPER_TEXT.encode()],
            start=mark,
        )
        rec.zre(
            "whisper_channel_str",
            entry,
            f"igs.channel_whisper_str({peer_argument!r}, {WHISPER_TEXT!r}) aimed at our node.",
            agent=AGENT,
        )

        # We join the agent's channel, then the agent shouts on it.
        mark = len(hub.inbound)
        node.join(agent_uuid, HELLO_CHANNEL)
        agent.wait_for(
            {
                "kind": "channel_event",
                "event": "JOIN",
                "peer_name": CAPTURE_NAME,
                "channel": HELLO_CHANNEL,
            },
            STEP_TIMEOUT,
        )
        agent.request({"cmd": "shout", "channel": HELLO_CHANNEL, "text": SHOUT_TEXT})
        entry = hub.expect(
            "channel_shout_str SHOUT", lambda m: is_zre(m, "SHOUT", agent_uuid), start=mark
        )
        rec.zre(
            "shout_channel_str",
            entry,
            f"igs.channel_shout_str({HELLO_CHANNEL!r}, {SHOUT_TEXT!r}) after we JOINed it.",
            agent=AGENT,
        )

        # The agent joins and leaves a channel while we are connected.
        mark = len(hub.inbound)
        agent.request({"cmd": "join", "channel": LATE_CHANNEL})
        entry = hub.expect(
            "JOIN from the agent",
            lambda m: (
                is_zre(m, "JOIN", agent_uuid)
                and m.frames[0][7:] == LATE_CHANNEL.encode() + m.frames[0][-1:]
            ),
            start=mark,
        )
        rec.zre(
            "join_from_agent",
            entry,
            f"igs.channel_join({LATE_CHANNEL!r}) after start.",
            agent=AGENT,
        )
        mark = len(hub.inbound)
        agent.request({"cmd": "leave", "channel": LATE_CHANNEL})
        entry = hub.expect(
            "LEAVE from the agent", lambda m: is_zre(m, "LEAVE", agent_uuid), start=mark
        )
        rec.zre(
            "leave_from_agent",
            entry,
            f"igs.channel_leave({LATE_CHANNEL!r}) after the join.",
            agent=AGENT,
        )

        # Election: we join the group without contesting and relay the waves (§10).
        mark = len(hub.inbound)
        node.join(agent_uuid, ELECTION_GROUP)
        elect = hub.expect(
            "ELECT from the agent", lambda m: is_zre(m, "ELECT", agent_uuid), start=mark
        )
        rec.zre(
            "elect_from_agent",
            elect,
            f"ELECT the contesting agent sent when we (not contesting) JOINed {ELECTION_GROUP!r}.",
            agent=AGENT,
        )
        assert elect.fields is not None
        challenger = elect.fields["challenger"]
        node.send(
            agent_uuid,
            Elect(
                sequence=node.next_sequence(agent_uuid), group=ELECTION_GROUP, challenger=challenger
            ),
        )  # echo to the father: we have no other group peer
        leader = hub.expect(
            "LEADER from the agent", lambda m: is_zre(m, "LEADER", agent_uuid), start=mark
        )
        rec.zre(
            "leader_from_agent",
            leader,
            "LEADER the agent sent after our ELECT echo (it won: we do not contest).",
            agent=AGENT,
        )
        node.send(
            agent_uuid,
            Leader(
                sequence=node.next_sequence(agent_uuid), group=ELECTION_GROUP, leader=challenger
            ),
        )  # propagate the LEADER wave, as every member must
        won = hub.pump(
            STEP_TIMEOUT,
            lambda: agent.find({"kind": "agent_event", "event": "AGENT_WON_ELECTION"}) is not None,
        )
        if not won:
            rec.surprises.append("the agent did not report AGENT_WON_ELECTION")

        # Our PING -> the agent's PING_OK.
        mark = len(hub.inbound)
        node.send(agent_uuid, Ping(sequence=node.next_sequence(agent_uuid)))
        entry = hub.expect(
            "PING_OK from the agent", lambda m: is_zre(m, "PING_OK", agent_uuid), start=mark
        )
        rec.zre("ping_ok_from_agent", entry, "PING_OK answering our PING.", agent=AGENT)

        # Silence -> the agent PINGs us at its evasive timeout (5 s); we answer PING_OK.
        quiet_since = hub.now()
        mark = len(hub.inbound)
        entry = hub.expect(
            "PING from the agent", lambda m: is_zre(m, "PING", agent_uuid), PING_WAIT, start=mark
        )
        rec.zre(
            "ping_from_agent",
            entry,
            "PING the agent sent after our silence (evasive timeout); we answered PING_OK.",
            agent=AGENT,
            silence_seconds=round(entry.t - quiet_since, 3),
        )
        hub.pump(0.3)
        if agent.find({"kind": "agent_event", "event": "PEER_EXITED"}) is not None:
            rec.surprises.append("the agent reported PEER_EXITED during the beacon scenario")

        # Stop: one beacon with port 0.
        stop_agent(agent, "beacon-mode agent", rec)
        leaving = listener.wait(
            "port-0 beacon",
            lambda d: (
                d.source[0] == h1.ip
                and d.data[4:20].hex().upper() == agent_uuid
                and d.data[20:22] == b"\0\0"
            ),
            STEP_TIMEOUT,
        )
        leaving_record = rec.beacon(
            "beacon_v1_leaving_from_agent",
            leaving,
            "Beacon sent by igs.stop() in beacon mode: same as the agent's beacon, port 0.",
            agent=AGENT,
        )
        time.sleep(0.5)  # count the port-0 copies (the listener runs in its own thread)
        copies = sum(1 for d in listener.datagrams if d.data == leaving.data)
        leaving_record["context"]["copies_received"] = copies
        beacons = [d for d in listener.datagrams if d.source[0] == h1.ip and d.data != leaving.data]
        if len(beacons) > 1:
            gaps = [round(b.t - a.t, 3) for a, b in itertools.pairwise(beacons)]
            first_record["context"]["intervals_seconds"] = gaps[:10]
        rec.surprises.extend(f"beacon-mode node: {a}" for a in node.anomalies)
    finally:
        if node is not None:
            node.close()
        agent.stop(5.0)
        listener.close()


def write_cert(path: Path, public: bytes, secret: bytes | None) -> None:
    """A czmq zcert file (ZPL): ``curve`` section with Z85 ``public-key`` [+ ``secret-key``]."""
    kind = "**Secret**" if secret is not None else "Public"
    lines = [
        f"#   ZeroMQ CURVE {kind} Certificate",
        "#   written by tests/vectors/capture.py",
        "",
        "metadata",
        "curve",
        f'    public-key = "{public.decode()}"',
    ]
    if secret is not None:
        lines.append(f'    secret-key = "{secret.decode()}"')
    path.write_text("\n".join(lines) + "\n")


class SecureIgsPeer(IgsPeer):
    """IgsPeer running ``secure_agent.py`` (igs_peer.py + igs.enable_security)."""

    def __init__(self, args: Sequence[str], cert: Path, public_dir: Path, **kw: Any) -> None:
        self.security = ["--cert", str(cert), "--public-dir", str(public_dir)]
        super().__init__(args, **kw)

    @property
    def argv(self) -> list[str]:
        return [
            self.python,
            "-u",
            str(SECURE_AGENT),
            *self.security,
            *self.args,
            "--max-seconds",
            str(self.max_seconds),
        ]


def capture_secure_beacon(hub: Hub, rec: Recorder, h1: Host, h2: Host, certs: Path) -> None:
    """CURVE agent on h1: v3 beacon, then a CURVE HELLO exchange, then the port-0 v3 beacon."""
    agent_public, agent_secret = zmq.curve_keypair()
    our_public, our_secret = zmq.curve_keypair()
    public_dir = certs / "public"
    public_dir.mkdir(parents=True)
    write_cert(certs / "agent.cert_secret", agent_public, agent_secret)
    write_cert(public_dir / "agent.cert", agent_public, None)
    write_cert(public_dir / "capture.cert", our_public, None)

    listener = BeaconListener(SECURE_BEACON_PORT, hub.t0)
    args = [
        *("--name", SECURE_AGENT_NAME, "--device", h1.device, "--port", str(SECURE_BEACON_PORT)),
    ]
    agent = SecureIgsPeer(
        args, certs / "agent.cert_secret", public_dir, host=h1, max_seconds=AGENT_MAX_SECONDS
    )
    node: ZreNode | None = None
    try:
        agent.wait_ready(20.0)
        first = listener.wait(
            "v3 beacon",
            lambda d: d.source[0] == h1.ip and len(d.data) == 54 and d.data[20:22] != b"\0\0",
            STEP_TIMEOUT,
        )
        rec.beacon(
            "beacon_v3_from_secure_agent",
            first,
            "First beacon of an agent after igs.enable_security(cert, public_dir): version 3, "
            "ends with the raw 32-byte CURVE public key of its certificate.",
            agent=SECURE_AGENT_NAME,
            certificate_public_key=agent_public.decode(),
        )
        if first.data[22:] != zmq.utils.z85.decode(agent_public):
            rec.surprises.append("v3 beacon key differs from the agent certificate's public key")
        agent_uuid = first.data[4:20].hex().upper()
        endpoint = f"tcp://{h1.ip}:{int.from_bytes(first.data[20:22], 'big')}"

        node = ZreNode(hub, "zre-curve", h2.ip, curve=(our_public, our_secret))
        node.connect(agent_uuid, endpoint, server_key=agent_public)
        node.hello(agent_uuid, {**CAPTURE_HEADERS, "X-PUBLICKEY": our_public.decode()})
        try:
            hello = hub.expect("CURVE HELLO", lambda m: is_zre(m, "HELLO", agent_uuid))
            rec.zre(
                "hello_from_secure_agent",
                hello,
                "HELLO of a secure agent over CURVE (our CURVE DEALER sent HELLO with "
                "X-PUBLICKEY; the agent connected back to our CURVE ROUTER).",
                agent=SECURE_AGENT_NAME,
            )
        except CaptureError as exc:  # optional vector
            rec.surprises.append(f"secure HELLO not captured: {exc}")

        stop_agent(agent, "secure agent", rec)
        leaving = listener.wait(
            "port-0 v3 beacon",
            lambda d: d.source[0] == h1.ip and len(d.data) == 54 and d.data[20:22] == b"\0\0",
            STEP_TIMEOUT,
        )
        rec.beacon(
            "beacon_v3_leaving_from_secure_agent",
            leaving,
            "Beacon sent by igs.stop() of the secure agent: version 3, port 0, key kept.",
            agent=SECURE_AGENT_NAME,
        )
        rec.surprises.extend(f"secure node: {a}" for a in node.anomalies)
    finally:
        if node is not None:
            node.close()
        agent.stop(5.0)
        listener.close()


def capture_gossip_client(hub: Hub, rec: Recorder, h2: Host) -> None:
    """Agent as a client of our zgossip broker; then ZRE over loopback and GOODBYE at stop."""
    broker_endpoint = f"tcp://127.0.0.1:{free_tcp_port()}"
    agent_endpoint = f"tcp://127.0.0.1:{free_tcp_port()}"

    def on_broker(frames: list[bytes]) -> None:
        try:
            fields: dict[str, Any] | None = ref_gossip(frames[-1]).fields
        except (ValueError, struct.error):
            fields = None
        hub.add("broker", frames[0], frames[1:], fields)

    broker = hub.socket(zmq.ROUTER, on_broker)
    broker.bind(broker_endpoint)
    args = [
        *("--name", GOSSIP_CLIENT_AGENT, "--endpoint", agent_endpoint),
        *("--broker", broker_endpoint),
    ]
    agent = IgsPeer(args, host=h2, max_seconds=AGENT_MAX_SECONDS)
    node: ZreNode | None = None
    try:
        agent.wait_ready(20.0)
        hello = hub.expect("zgossip HELLO", lambda m: m.label == "broker" and m.type == "HELLO")
        rec.gossip(
            "gossip_hello_from_agent",
            hello,
            "zgossip HELLO of an agent started with igs.broker_add(<our broker>).",
            agent=GOSSIP_CLIENT_AGENT,
        )
        publish = hub.expect(
            "zgossip PUBLISH", lambda m: m.label == "broker" and m.type == "PUBLISH"
        )
        publish_record = rec.gossip(
            "gossip_publish_from_agent",
            publish,
            "zgossip PUBLISH of the agent's own tuple (key = node UUID, value = its "
            "igs.start_with_brokers endpoint), sent right after its HELLO.",
            agent=GOSSIP_CLIENT_AGENT,
            after_hello_seconds=round(publish.t - hello.t, 3),
        )
        assert publish.fields is not None
        agent_uuid = publish.fields["key"]

        node = ZreNode(hub, "zre-gossip", "127.0.0.1")
        node.connect(agent_uuid, publish.fields["value"])
        node.hello(agent_uuid, CAPTURE_HEADERS)
        hello_zre = hub.expect("broker-mode HELLO", lambda m: is_zre(m, "HELLO", agent_uuid))
        rec.zre(
            "hello_from_agent_broker_mode",
            hello_zre,
            "HELLO of a broker-mode agent (igs.start_with_brokers) after our HELLO.",
            agent=GOSSIP_CLIENT_AGENT,
        )
        agent.wait_for(
            {"kind": "agent_event", "event": "PEER_ENTERED", "name": CAPTURE_NAME}, STEP_TIMEOUT
        )
        mark = len(hub.inbound)
        agent.send({"cmd": "stop"})
        goodbye = hub.expect("GOODBYE", lambda m: is_zre(m, "GOODBYE", agent_uuid), start=mark)
        rec.zre(
            "goodbye_from_agent",
            goodbye,
            "GOODBYE sent by igs.stop() of a broker-mode agent to its peer (us).",
            agent=GOSSIP_CLIENT_AGENT,
        )
        stop_agent(agent, "gossip client agent", rec)
        others = [m.type for m in hub.inbound if m.label == "broker"]
        publish_record["context"]["broker_received"] = others
        rec.surprises.extend(f"gossip node: {a}" for a in node.anomalies)
    finally:
        if node is not None:
            node.close()
        agent.stop(5.0)
        hub.close_socket(broker)


def capture_gossip_broker(hub: Hub, rec: Recorder, h2: Host) -> None:
    """Agent running a zgossip broker: PING -> PONG, PUBLISH before HELLO -> INVALID, HELLO."""
    broker_endpoint = f"tcp://127.0.0.1:{free_tcp_port()}"
    agent_endpoint = f"tcp://127.0.0.1:{free_tcp_port()}"
    args = [
        *("--name", GOSSIP_BROKER_AGENT, "--endpoint", agent_endpoint),
        *("--broker-bind", broker_endpoint),
    ]
    agent = IgsPeer(args, host=h2, max_seconds=AGENT_MAX_SECONDS)
    dealers: list[zmq.Socket[bytes]] = []
    # A ROUTER of ours whose endpoint goes into the (refused) PUBLISH, so that even a broker
    # that stored it would only point at a socket we own.
    sink = ZreNode(hub, "zre-sink", "127.0.0.1")

    def client(label: str) -> zmq.Socket[bytes]:
        def on_frames(frames: list[bytes]) -> None:
            try:
                fields: dict[str, Any] | None = ref_gossip(frames[0]).fields
            except (ValueError, struct.error):
                fields = None
            hub.add(label, None, frames, fields)

        dealer = hub.socket(zmq.DEALER, on_frames)
        dealer.connect(broker_endpoint)
        dealers.append(dealer)
        return dealer

    try:
        agent.wait_ready(20.0)
        client("ping").send(GossipPing().encode())
        pong = hub.expect("PONG", lambda m: m.label == "ping" and m.type == "PONG")
        rec.gossip(
            "gossip_pong_from_agent",
            pong,
            "PONG of an agent broker (igs.broker_enable_with_endpoint) to our first-message PING.",
            agent=GOSSIP_BROKER_AGENT,
        )
        refused = GossipPublish(key=sink.uuid_text, value=sink.endpoint)
        client("early").send(refused.encode())
        invalid = hub.expect("INVALID", lambda m: m.label == "early" and m.type == "INVALID")
        rec.gossip(
            "gossip_invalid_from_agent",
            invalid,
            "INVALID of an agent broker to a PUBLISH sent before any HELLO.",
            agent=GOSSIP_BROKER_AGENT,
        )
        client("hello").send(GossipHello().encode())
        publish = hub.expect(
            "PUBLISH from the broker", lambda m: m.label == "hello" and m.type == "PUBLISH"
        )
        publish_record = rec.gossip(
            "gossip_publish_from_agent_broker",
            publish,
            "PUBLISH of the agent's own tuple, sent by its broker in answer to our HELLO.",
            agent=GOSSIP_BROKER_AGENT,
        )
        hub.pump(0.5)
        extra = [m.type for m in hub.inbound if m.label in ("ping", "early", "hello")]
        publish_record["context"]["client_received"] = extra
        if any(m.label == "zre-sink" for m in hub.inbound):
            rec.surprises.append("the agent broker acted on the PUBLISH it called INVALID")
        stop_agent(agent, "gossip broker agent", rec)
    finally:
        for dealer in dealers:
            hub.close_socket(dealer)
        sink.close()
        agent.stop(5.0)


def run_inside(hosts: list[Host], out: Path, allow_partial: bool) -> int:
    """The capture proper; runs inside host 2's namespace."""
    h1, h2 = hosts
    version = importlib.metadata.version("ingescape")
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    rec = Recorder(f"ingescape {version} (pip wheel), captured {date} by tests/vectors/capture.py")
    hub = Hub()
    failures: list[str] = []
    certs = Path(tempfile.mkdtemp(prefix="pw-golden-certs-"))
    scenarios: list[tuple[str, Callable[[], None]]] = [
        ("beacon mode", lambda: capture_beacon_mode(hub, rec, h1, h2)),
        ("secure beacon mode", lambda: capture_secure_beacon(hub, rec, h1, h2, certs)),
        ("gossip client", lambda: capture_gossip_client(hub, rec, h2)),
        ("gossip broker", lambda: capture_gossip_broker(hub, rec, h2)),
    ]
    try:
        for label, scenario in scenarios:
            log(f"--- {label}")
            started = time.monotonic()
            try:
                scenario()
            except (CaptureError, AssertionError) as exc:
                failures.append(f"{label}: {exc}")
                log(f"FAILED {label}: {exc}")
            log(f"--- {label}: {time.monotonic() - started:.1f} s")
    finally:
        hub.close()
        shutil.rmtree(certs, ignore_errors=True)

    missing = [name for name in REQUIRED if name not in rec.names()]
    print("\n== vectors:", ", ".join(r["name"] for r in rec.records))
    print("== surprises:" + ("".join(f"\n  - {s}" for s in rec.surprises) or " none"))
    print("== codec problems:" + ("".join(f"\n  - {b}" for b in rec.codec_bugs) or " none"))
    for failure in failures:
        print(f"== FAILED: {failure}")
    if missing:
        print("== missing required vectors:", ", ".join(missing))
    if (missing or failures) and not allow_partial:
        print("== nothing written (use --allow-partial to write what was captured)")
        return 1
    out.write_text(json.dumps(rec.records, indent=1, ensure_ascii=False) + "\n")
    print(f"== wrote {len(rec.records)} vectors to {out}")
    return 0


def run_outside(out: Path, allow_partial: bool) -> int:
    """Build the private LAN, run the capture inside host 2, always clean up."""
    if os.geteuid() != 0:
        print("capture.py needs root (it creates network namespaces)", file=sys.stderr)
        return 2
    started = time.monotonic()
    with Lan(2) as lan:
        h1, h2 = lan.hosts
        hosts = [
            {
                "name": h.name,
                "ns": h.ns,
                "device": h.device,
                "ip": h.ip,
                "broadcast": h.broadcast,
                "prefixlen": h.prefixlen,
            }
            for h in (h1, h2)
        ]
        argv = [sys.executable, "-u", str(Path(__file__).resolve()), "--inside", json.dumps(hosts)]
        argv += ["--out", str(out)] + (["--allow-partial"] if allow_partial else [])
        log(f"LAN {lan.subnet}: agent host {h1.ns} ({h1.ip}), capture host {h2.ns} ({h2.ip})")
        child = h2.popen(argv, cwd=str(ROOT))
        try:
            rc = child.wait(CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            log(f"capture still running after {CHILD_TIMEOUT}s: killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(10.0)
            rc = 1
        names = {lan.switch_ns, *(h.ns for h in lan)}
    leftover = names & list_namespaces()
    log(
        f"done in {time.monotonic() - started:.1f} s, rc {rc}; leftover namespaces: "
        f"{sorted(leftover) or 'none'}"
    )
    return rc if not leftover else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file to write")
    ap.add_argument("--allow-partial", action="store_true", help="write even if vectors miss")
    ap.add_argument("--inside", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.inside:
        hosts = [Host(**h) for h in json.loads(args.inside)]
        return run_inside(hosts, args.out.resolve(), args.allow_partial)
    return run_outside(args.out.resolve(), args.allow_partial)


if __name__ == "__main__":
    sys.exit(main())
