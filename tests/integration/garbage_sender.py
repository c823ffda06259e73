"""Send malformed beacons and ZRE frames at a node; run it inside the test's namespace.

    python garbage_sender.py --port 25670 --inbox tcp://127.0.0.1:40000 --seed 7

Prints one JSON object: what was sent, by category. Beacons go to 127.255.255.255 (every
listener on the port) and to 127.0.0.1; only use it in a private namespace.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import struct
import sys
import uuid

import zmq

BROADCAST = "127.255.255.255"


def random_datagrams(rng: random.Random, count: int) -> list[bytes]:
    """Random bytes of random sizes 0..300 that do not start with ``ZRE``."""
    out = []
    while len(out) < count:
        data = rng.randbytes(rng.randint(0, 300))
        if not data.startswith(b"ZRE"):
            out.append(data)
    return out


def malformed_beacons(rng: random.Random, count: int) -> list[bytes]:
    """Datagrams that start with ``ZRE`` but cannot be decoded as a beacon (zre.md §2.1, §2.3)."""
    fixed = [
        b"ZRE",  # truncated
        b"ZRE\x01" + rng.randbytes(17),  # 21 bytes
        b"ZRE\x01" + rng.randbytes(19),  # 23 bytes
        b"ZRE\x02" + rng.randbytes(18),  # 22 bytes, unknown version
        b"ZRE\x03" + rng.randbytes(18),  # 22 bytes with the CURVE version
        b"ZRE\x01" + rng.randbytes(50),  # 54 bytes with the plain version
        b"ZRE\x01" + rng.randbytes(200),
    ]
    out = fixed[:count]
    while len(out) < count:
        size = rng.choice([s for s in range(3, 301) if s not in (22, 54)])
        out.append(b"ZRE" + rng.randbytes(size - 3))
    return out


def beacon(node: uuid.UUID, port: int) -> bytes:
    return struct.pack(">3sB16sH", b"ZRE", 1, node.bytes, port)


def inbox_garbage(rng: random.Random) -> list[tuple[bytes | None, list[bytes]]]:
    """(identity or None, frames): each message must count as exactly one decode error."""
    ident = b"\x01" + rng.randbytes(16)
    return [
        (None, [b"no identity"]),  # libzmq's 5-byte routing id: not a ZRE peer
        (b"\x01" + rng.randbytes(9), [b"\xaa\xa1\x02\x02\x00\x01"]),  # 10-byte identity
        (ident, [b""]),
        (ident, [b"\xaa\xa1"]),  # truncated header
        (ident, [b"\xaa\xa1\x01\x03\x00\x01"]),  # version 3
        (ident, [b"\xaa\xa1\x63\x02\x00\x01"]),  # unknown id 99
        (ident, [b"\xaa\xa1\x01\x02\x00\x01\x15tcp://"]),  # truncated HELLO
        (ident, [b"\x00" * 6, b"frame"]),  # bad signature
        (ident, [b"\xaa\xa1\x03\x02\x00\x02\xffGROUP"]),  # SHOUT with an overlong group
        (ident, [b"\xbb" + rng.randbytes(40)]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--inbox", help="ZRE inbox endpoint to send garbage frames to")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--random", type=int, default=200, help="random datagrams")
    parser.add_argument("--zre", type=int, default=40, help="ZRE-prefixed malformed beacons")
    parser.add_argument("--own", help="UUID of the target: also send beacons carrying it")
    parser.add_argument("--phantoms", type=int, default=5, help="valid beacons to nowhere")
    parser.add_argument("--dead-port", type=int, default=9, help="TCP port of the phantoms")
    parser.add_argument("--leave", help="UUID: send one port-0 beacon in its name, nothing else")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    report: dict[str, object] = {"seed": args.seed}

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    # The datagrams a test counts go first: a burst may overflow the receiver's buffer, and
    # the kernel then drops the tail of it (as it would on a real flood).
    if args.leave:
        udp.sendto(beacon(uuid.UUID(hex=args.leave), 0), (BROADCAST, args.port))
        udp.close()
        sys.stdout.write(json.dumps({"leave": args.leave}) + "\n")
        return 0
    if args.own:
        own = uuid.UUID(hex=args.own)
        for port in (1, 0, 65535):  # our UUID, other bytes than our own beacon
            udp.sendto(beacon(own, port), (BROADCAST, args.port))
        report["own"] = 3
    phantoms = [uuid.UUID(bytes=rng.randbytes(16)) for _ in range(args.phantoms)]
    for node in phantoms:
        udp.sendto(beacon(node, args.dead_port), (BROADCAST, args.port))
        udp.sendto(beacon(node, 0), (BROADCAST, args.port))  # and it leaves
        udp.sendto(beacon(uuid.UUID(bytes=rng.randbytes(16)), 0), (BROADCAST, args.port))
    report["phantoms"] = [p.hex.upper() for p in phantoms]
    zre = malformed_beacons(rng, args.zre)
    for data in zre:
        udp.sendto(data, (BROADCAST, args.port))
    report["zre_malformed"] = len(zre)
    sent = 0
    for i, data in enumerate(random_datagrams(rng, args.random)):
        udp.sendto(data, (BROADCAST if i % 2 else "127.0.0.1", args.port))
        sent += 1
    report["random"] = sent
    udp.close()

    if args.inbox:
        host, port = args.inbox[len("tcp://") :].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            raw.sendall(b"GET / HTTP/1.0\r\n\r\n" + rng.randbytes(64))  # not even ZMTP
        context = zmq.Context()
        messages = inbox_garbage(rng)
        # One DEALER per identity, sending its messages in order over one connection (two
        # connections with the same identity would hand over, and may drop what was queued).
        by_identity: dict[bytes | None, list[list[bytes]]] = {}
        for identity, frames in messages:
            by_identity.setdefault(identity, []).append(frames)
        for identity, batch in by_identity.items():
            dealer = context.socket(zmq.DEALER)
            dealer.setsockopt(zmq.LINGER, 5000)
            if identity is not None:
                dealer.setsockopt(zmq.IDENTITY, identity)
            dealer.connect(args.inbox)
            for frames in batch:
                dealer.send_multipart(frames)
            dealer.close()  # lingers until delivered
        context.term()
        report["inbox_garbage"] = len(messages)
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
