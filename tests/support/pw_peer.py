"""A patchwire Node driven over stdin/stdout, the twin of ``tests/interop/igs_peer.py``.

    python tests/support/pw_peer.py --name a --device lo --port 25670 --channel CHAT

Output: one JSON object per line (``kind`` = ready, error, event, ack, stopped); events carry
the event class name in ``type`` and its fields, bytes as hex. Input: one JSON command per line
(``cmd`` = shout, whisper, join, leave, election_join, election_leave, peers, stats, stop).
Stops by itself after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import time
from typing import Any
from uuid import UUID

from patchwire import Network, Node, ZreSettings
from patchwire.errors import PatchwireError


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


class Driver:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.t0 = time.monotonic()

    def emit(self, kind: str, **fields: Any) -> None:
        record = {"kind": kind, "t": round(time.monotonic() - self.t0, 4), **fields}
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()

    async def run(self) -> int:
        args = self.args
        settings = ZreSettings(evasive=args.evasive, expired=args.expired)
        network = Network(
            device=args.device,
            ip=args.ip,
            port=args.port,
            brokers=tuple(args.broker),
            endpoint=args.endpoint,
            broker_bind=args.broker_bind,
            beacon_interval=args.interval,
        )
        headers = dict(item.split("=", 1) for item in args.header)
        uuid = UUID(hex=args.uuid) if args.uuid else None
        node = Node(args.name, network=network, headers=headers, settings=settings, uuid=uuid)
        for channel in args.channel:
            node.join(channel)
        for election in args.election:
            node.join_election(election)
        node.on_event(self.on_event)
        try:
            await node.start()
        except PatchwireError as error:
            self.emit("error", error=str(error), type=type(error).__name__)
            return 2
        self.emit("ready", pid=os.getpid(), uuid=node.id, endpoint=node.endpoint)
        try:
            async with asyncio.timeout(args.max_seconds):
                await self.serve(node)
        except TimeoutError:
            self.emit("deadline")
        await node.stop()
        self.emit("stopped")
        return 0

    def on_event(self, event: Any) -> None:
        fields = {f.name: _jsonable(getattr(event, f.name)) for f in dataclasses.fields(event)}
        self.emit("event", type=type(event).__name__, **fields)

    async def serve(self, node: Node) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            if not line.strip():
                continue
            command = json.loads(line)
            name = command.get("cmd")
            if name == "stop":
                self.emit("ack", cmd=name)
                return
            try:
                result = self.execute(node, command)
            except PatchwireError as error:
                self.emit("ack", cmd=name, error=str(error))
            else:
                self.emit("ack", cmd=name, result=result)

    def execute(self, node: Node, command: dict[str, Any]) -> Any:
        match command["cmd"]:
            case "shout":
                return node.shout(command["channel"], command["text"])
            case "whisper":
                node.whisper(command["peer"], command["text"])
            case "join":
                node.join(command["channel"])
            case "leave":
                node.leave(command["channel"])
            case "election_join":
                node.join_election(command["election"])
            case "election_leave":
                node.leave_election(command["election"])
            case "peers":
                return [{"id": p.id, "name": p.name, "endpoint": p.endpoint} for p in node.peers()]
            case "stats":
                return dataclasses.asdict(node.statistics())
            case other:
                raise PatchwireError(f"unknown command {other!r}")
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", default="pw_peer")
    parser.add_argument("--device")
    parser.add_argument("--ip")
    parser.add_argument("--port", type=int, default=5670)
    parser.add_argument("--broker", action="append", default=[])
    parser.add_argument("--endpoint")
    parser.add_argument("--broker-bind")
    parser.add_argument("--interval", type=float, default=1.0, help="beacon interval (s)")
    parser.add_argument("--evasive", type=float, default=5.0)
    parser.add_argument("--expired", type=float, default=8.0)
    parser.add_argument("--channel", action="append", default=[])
    parser.add_argument("--election", action="append", default=[])
    parser.add_argument("--header", action="append", default=[], help="k=v")
    parser.add_argument("--uuid", help="32 hex digits (default: random)")
    parser.add_argument("--max-seconds", type=float, default=60.0)
    return asyncio.run(Driver(parser.parse_args()).run())


if __name__ == "__main__":
    sys.exit(main())
