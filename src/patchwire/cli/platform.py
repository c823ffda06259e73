"""Options shared by every command that joins a platform, and how they become a Network."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from patchwire.errors import ConfigurationError
from patchwire.runtime.config import DEFAULT_PORT, Network

__all__ = ["add_platform_options", "emit_json", "fail", "network_from_args"]


def add_platform_options(parser: argparse.ArgumentParser, *, default_timeout: float | None) -> None:
    group = parser.add_argument_group(
        "platform",
        "join by UDP beacons on a device (--device/--ip, --port) or through brokers (--broker)",
    )
    group.add_argument("--device", help="network device for beacons, e.g. eth0 (default: auto)")
    group.add_argument("--ip", help="IPv4 address of the device for beacons, instead of --device")
    group.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"beacon UDP port (default {DEFAULT_PORT})"
    )
    group.add_argument(
        "--broker",
        action="append",
        default=[],
        metavar="EP",
        help="gossip broker endpoint, e.g. tcp://10.0.0.5:5661 (repeatable)",
    )
    group.add_argument(
        "--endpoint",
        metavar="EP",
        help="our own inbox endpoint in broker mode (default: automatic)",
    )
    group.add_argument(
        "--broker-bind", metavar="EP", help="also act as a broker for others on this endpoint"
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=default_timeout,
        metavar="S",
        help="stop after S seconds"
        + (
            f" (default {default_timeout:g})" if default_timeout else " (default: run until Ctrl-C)"
        ),
    )
    group.add_argument("--json", action="store_true", help="one JSON object per line")
    group.add_argument("--name", default="patchwire-cli", help="our peer name on the platform")


def network_from_args(args: argparse.Namespace) -> Network:
    if args.endpoint and not (args.broker or args.broker_bind):
        raise ConfigurationError(
            "--endpoint is for broker mode: add --broker EP (or --broker-bind EP)"
        )
    return Network(
        device=args.device,
        ip=args.ip,
        port=args.port,
        brokers=tuple(args.broker),
        endpoint=args.endpoint,
        broker_bind=args.broker_bind,
    )


def emit_json(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"patchwire: error: {message}\n")
    return code
