"""``patchwire peers``: the peers of a platform with their headers, once or live."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from patchwire.errors import ConfigurationError, NetworkError, PatchwireError
from patchwire.protocol.zre.events import PeerEntered, PeerExited, PeerJoined, PeerLeft
from patchwire.runtime.node import Node, PeerInfo

from .platform import add_platform_options, emit_json, fail, network_from_args

__all__ = ["register"]

EXAMPLES = """examples:
  patchwire peers --broker tcp://127.0.0.1:5661          peers known to a broker
  patchwire peers --device eth0 --port 5670 --watch      live arrivals and departures
  patchwire peers --device lo --json                     one JSON object per peer
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "peers",
        help="list the peers of a platform with their headers",
        description="Join a platform, list the peers seen (name, UUID, endpoint, headers) and "
        "leave. With --watch, print arrivals and departures as they happen.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--watch", action="store_true", help="follow arrivals and departures")
    add_platform_options(parser, default_timeout=None)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        network = network_from_args(args)
    except ConfigurationError as error:
        return fail(str(error), 2)
    try:
        return asyncio.run(_peers(args, Node(args.name, network=network)))
    except ConfigurationError as error:
        return fail(str(error), 2)
    except NetworkError as error:
        return fail(str(error), 1)
    except PatchwireError as error:
        return fail(str(error), 1)


async def _peers(args: argparse.Namespace, node: Node) -> int:
    async with node:
        events = node.events()
        broker_wait = min(args.timeout, 3.0) if args.timeout else 3.0
        await node.wait_brokers(timeout=broker_wait)
        if args.watch:
            await _watch(args, node, events)
            return 0
        # A listing: give discovery a few beacon intervals (or the --timeout given).
        window = args.timeout if args.timeout is not None else 3.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + window
        while (remaining := deadline - loop.time()) > 0:
            try:
                await events.get(timeout=remaining)
            except TimeoutError:
                break
        peers = node.peers()
        if args.json:
            for peer in peers:
                emit_json({"event": "peer", **_peer_record(peer)})
        else:
            _print_table(peers)
    return 0


async def _watch(args: argparse.Namespace, node: Node, events: Any) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.timeout if args.timeout is not None else None
    while True:
        remaining = None if deadline is None else deadline - loop.time()
        if remaining is not None and remaining <= 0:
            return
        try:
            event = await events.get(timeout=remaining)
        except TimeoutError:
            return
        match event:
            case PeerEntered(peer=peer_id, name=name, endpoint=endpoint, headers=headers):
                # From the event itself: the peer may already be gone when we print it.
                info = PeerInfo(
                    id=peer_id, name=name, endpoint=endpoint, headers=headers, groups=frozenset()
                )
                if args.json:
                    emit_json({"event": "entered", **_peer_record(info)})
                else:
                    print(f"+ {name}  {peer_id}  {endpoint}  {_headers_text(info)}")
            case PeerExited(peer=peer_id, name=name, reason=reason):
                if args.json:
                    emit_json({"event": "exited", "id": peer_id, "name": name, "reason": reason})
                else:
                    print(f"- {name}  {peer_id}  ({reason})")
            case PeerJoined(peer=peer_id, name=name, group=group):
                if args.json:
                    emit_json({"event": "joined", "id": peer_id, "name": name, "group": group})
            case PeerLeft(peer=peer_id, name=name, group=group):
                if args.json:
                    emit_json({"event": "left", "id": peer_id, "name": name, "group": group})
            case _:
                pass


def _peer_record(peer: PeerInfo) -> dict[str, Any]:
    return {
        "id": peer.id,
        "name": peer.name,
        "endpoint": peer.endpoint,
        "headers": peer.headers,
        "groups": sorted(peer.groups),
    }


def _headers_text(peer: PeerInfo) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(peer.headers.items()))


def _print_table(peers: list[PeerInfo]) -> None:
    if not peers:
        print("no peers seen")
        return
    name_width = max(len("NAME"), *(len(p.name) for p in peers))
    endpoint_width = max(len("ENDPOINT"), *(len(p.endpoint) for p in peers))
    print(f"{'NAME':<{name_width}}  {'UUID':<32}  {'ENDPOINT':<{endpoint_width}}  HEADERS")
    for peer in peers:
        print(
            f"{peer.name:<{name_width}}  {peer.id}  {peer.endpoint:<{endpoint_width}}  "
            f"{_headers_text(peer)}"
        )
