"""A real Ingescape 4.7 agent driven over stdin/stdout, for interop tests.

Run it with an interpreter that has ``pip install ingescape`` and always in its own
process (the binding keeps process-global state)::

    python igs_peer.py --name a --endpoint tcp://127.0.0.1:5601 \
        --broker-bind tcp://127.0.0.1:5600 --broker tcp://127.0.0.1:5600

Beacon mode (``--device DEV --port P``) only works on a broadcast-capable,
non-loopback interface: use it inside a private network namespace only.

Output: one JSON object per line on stdout (``kind`` = ready, error, agent_event,
channel_event, ack, deadline, stopped). Input: one JSON command per line on stdin
(``cmd`` = shout, whisper, join, leave, election_join, election_leave, stop).
Anything the C library prints goes to stderr: file descriptor 1 is redirected there
and the JSON stream uses a private duplicate of the original stdout.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import ingescape as igs
import ingescape._ingescape as igs_ext

EXIT_START_FAILED = 2
EXIT_DEADLINE = 3

AGENT_EVENT_NAMES: dict[int, str] = {
    getattr(igs, name): name
    for name in (
        "PEER_ENTERED",
        "PEER_EXITED",
        "AGENT_ENTERED",
        "AGENT_UPDATED_DEFINITION",
        "AGENT_KNOWS_US",
        "AGENT_EXITED",
        "AGENT_UPDATED_MAPPING",
        "AGENT_WON_ELECTION",
        "AGENT_LOST_ELECTION",
    )
    if hasattr(igs, name)
}

# void cb(const char *event, const char *peer_id, const char *peer_name,
#         const char *address, const char *channel, zhash_t *headers,
#         zmsg_t *msg, void *my_data)   -- igs_channels_fn in ingescape.h
ChannelsFn = ctypes.CFUNCTYPE(
    None,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
)


class Output:
    """Thread-safe writer of JSON lines to a private duplicate of stdout."""

    def __init__(self) -> None:
        sys.stdout.flush()
        self._fd = os.dup(1)
        os.dup2(2, 1)  # C-level printf/log output now lands on stderr
        self._file = os.fdopen(self._fd, "w", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()
        self._t0 = time.monotonic()

    def emit(self, kind: str, **fields: Any) -> None:
        """Write one JSON object (with ``kind`` and a relative time ``t``) and flush."""
        record = {"kind": kind, "t": round(time.monotonic() - self._t0, 4), **fields}
        line = json.dumps(record, default=repr)
        with self._lock:
            try:
                self._file.write(line + "\n")
                self._file.flush()
            except (BrokenPipeError, ValueError):
                pass  # the driver is gone; keep running until stdin EOF or the deadline


class CzmqReader:
    """Read-only access to czmq objects (zmsg_t, zhash_t) owned by the library."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        vp = ctypes.c_void_p
        self._first = self._fn(lib, "zmsg_first", vp, [vp])
        self._next = self._fn(lib, "zmsg_next", vp, [vp])
        self._data = self._fn(lib, "zframe_data", vp, [vp])
        self._size = self._fn(lib, "zframe_size", ctypes.c_size_t, [vp])
        self._hfirst = self._fn(lib, "zhash_first", vp, [vp])
        self._hnext = self._fn(lib, "zhash_next", vp, [vp])
        self._hcursor = self._fn(lib, "zhash_cursor", ctypes.c_char_p, [vp])

    @staticmethod
    def _fn(lib: ctypes.CDLL, name: str, restype: Any, argtypes: list[Any]) -> Any:
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
        return fn

    def frames(self, msg: int | None) -> list[bytes]:
        """Return a copy of every frame of ``msg`` without consuming it."""
        out: list[bytes] = []
        if not msg:
            return out
        frame = self._first(msg)
        while frame:
            size = int(self._size(frame))
            data = self._data(frame)
            out.append(ctypes.string_at(data, size) if size and data else b"")
            frame = self._next(msg)
        return out

    def headers(self, table: int | None) -> dict[str, str] | None:
        """Return a copy of a zhash_t of C strings (None when absent)."""
        if not table:
            return None
        out: dict[str, str] = {}
        item = self._hfirst(table)
        while item:
            key: bytes = self._hcursor(table) or b""
            out[key.decode("utf-8", "replace")] = ctypes.string_at(item).decode("utf-8", "replace")
            item = self._hnext(table)
        return out


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", "replace")


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, dict | str | type(None)) else repr(value)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default="igs_peer")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--device", help="beacon mode: igs.start_with_device(DEV, PORT)")
    mode.add_argument("--endpoint", help="broker mode: igs.start_with_brokers(EP)")
    ap.add_argument("--port", type=int, default=5670, help="beacon UDP port (beacon mode)")
    ap.add_argument("--broker", action="append", default=[], help="igs.broker_add(EP)")
    ap.add_argument("--broker-bind", help="igs.broker_enable_with_endpoint(EP)")
    ap.add_argument("--timeout", type=int, help="igs.net_set_timeout(MS)")
    ap.add_argument("--interval", type=int, help="igs.net_set_discovery_interval(MS)")
    ap.add_argument("--channel", action="append", default=[], help="channel joined after start")
    ap.add_argument("--election", action="append", default=[], help="election joined before start")
    ap.add_argument("--header", action="append", default=[], help="peer header k=v")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="hard self-stop deadline")
    ap.add_argument("--verbose", action="store_true", help="Ingescape console log (to stderr)")
    args = ap.parse_args(argv)
    if args.endpoint and not (args.broker or args.broker_bind):
        ap.error("--endpoint needs --broker and/or --broker-bind")
    return args


class Peer:
    """One Ingescape agent plus its stdin command loop."""

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self.czmq = CzmqReader(ctypes.CDLL(igs_ext.__file__))
        self._channel_cb = ChannelsFn(self._on_channel)  # kept alive for the C library
        self._buffer = b""
        self.handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "shout": lambda c: igs.channel_shout_str(c["channel"], c["text"]),
            "whisper": lambda c: igs.channel_whisper_str(c["peer"], c["text"]),
            "join": lambda c: igs.channel_join(c["channel"]),
            "leave": lambda c: igs.channel_leave(c["channel"]),
            "election_join": lambda c: igs.election_join(c["election"]),
            "election_leave": lambda c: igs.election_leave(c["election"]),
        }

    # -- callbacks (called from Ingescape's network thread) --------------------

    def _on_agent_event(self, event: int, uuid: str, name: str, data: Any, _my: Any) -> None:
        self.out.emit(
            "agent_event",
            event=AGENT_EVENT_NAMES.get(event, str(event)),
            uuid=uuid,
            name=name,
            data=_jsonable(data),
        )

    def _on_channel(
        self,
        event: bytes | None,
        peer_id: bytes | None,
        peer_name: bytes | None,
        address: bytes | None,
        channel: bytes | None,
        headers: int | None,
        msg: int | None,
        _my: int | None,
    ) -> None:
        try:
            record: dict[str, Any] = {
                "event": _text(event),
                "peer_id": _text(peer_id),
                "peer_name": _text(peer_name),
                "address": _text(address),
                "channel": _text(channel),
                "frames": [f.hex() for f in self.czmq.frames(msg)],
            }
            hdrs = self.czmq.headers(headers)
            if hdrs is not None:
                record["headers"] = hdrs
            self.out.emit("channel_event", **record)
        except Exception as exc:  # never let an exception cross into C
            self.out.emit("callback_error", error=repr(exc))

    # -- lifecycle ------------------------------------------------------------

    def configure(self) -> None:
        """Everything that must happen before start."""
        a = self.args
        igs.log_set_console(bool(a.verbose))
        igs.agent_set_name(a.name)
        igs.definition_set_version("1.0")
        igs.output_create("out_int", igs.INTEGER_T, 0)
        igs.input_create("in_str", igs.STRING_T, "")
        for header in a.header:
            key, _, value = header.partition("=")
            igs.peer_add_header(key, value)
        for election in a.election:
            igs.election_join(election)
        if a.interval is not None:
            igs.net_set_discovery_interval(a.interval)
        if a.timeout is not None:
            igs.net_set_timeout(a.timeout)
        igs.observe_agent_events(self._on_agent_event, None)
        lib = ctypes.CDLL(igs_ext.__file__)
        lib.igs_observe_channels.restype = None
        lib.igs_observe_channels.argtypes = [ChannelsFn, ctypes.c_void_p]
        lib.igs_observe_channels(self._channel_cb, None)

    def start(self) -> int:
        """Start in broker or beacon mode; return the Ingescape result code."""
        a = self.args
        if a.endpoint:
            if a.broker_bind:
                igs.broker_enable_with_endpoint(a.broker_bind)
            for broker in a.broker:
                igs.broker_add(broker)
            rc = int(igs.start_with_brokers(a.endpoint))
        else:
            rc = int(igs.start_with_device(a.device, a.port))
        if rc == igs.SUCCESS:
            for channel in a.channel:
                igs.channel_join(channel)
        return rc

    def stop(self) -> None:
        """Stop the agent (not from a callback) and report it."""
        if igs.is_started():
            igs.stop()
        self.out.emit("stopped")

    def handle(self, line: bytes) -> bool:
        """Run one command line; return False when the peer must stop."""
        try:
            cmd = json.loads(line)
            name = cmd["cmd"]
        except (ValueError, KeyError, TypeError) as exc:
            self.out.emit("ack", cmd=None, rc=None, error=f"bad command: {exc!r}")
            return True
        if name == "stop":
            self.out.emit("ack", cmd=name, rc=0)
            return False
        handler = self.handlers.get(name)
        if handler is None:
            self.out.emit("ack", cmd=name, rc=None, error="unknown command")
            return True
        try:
            rc = handler(cmd)
        except Exception as exc:
            self.out.emit("ack", cmd=name, rc=None, error=repr(exc))
        else:
            self.out.emit("ack", cmd=name, rc=rc)
        return True

    def serve(self, deadline: float) -> int:
        """Read commands from stdin until stop, EOF or the deadline; return an exit code."""
        fd = sys.stdin.fileno()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.out.emit("deadline", max_seconds=self.args.max_seconds)
                return EXIT_DEADLINE
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return 0  # EOF: the driver went away
            self._buffer += chunk
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                if line.strip() and not self.handle(line):
                    return 0


def _watchdog(seconds: float) -> None:
    """Last resort if a graceful stop hangs: end the process."""
    time.sleep(seconds)
    os._exit(EXIT_DEADLINE)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    deadline = time.monotonic() + args.max_seconds
    threading.Thread(target=_watchdog, args=(args.max_seconds + 15.0,), daemon=True).start()
    out = Output()
    peer = Peer(args, out)
    peer.configure()
    rc = peer.start()
    if rc != igs.SUCCESS:
        out.emit("error", rc=rc, error="start failed", pid=os.getpid())
        return EXIT_START_FAILED
    out.emit("ready", pid=os.getpid(), agent_uuid=igs.agent_uuid(), name=args.name)
    code = peer.serve(deadline)
    peer.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
