"""``patchwire doctor``: print what a person needs to debug discovery.

Layer: application. Read-only: it lists devices, reads ``/proc`` and binds (never sends on) one
UDP socket to check the beacon port, then closes it. It never broadcasts.

Exit status: 0 normally (hints are information, not failures); 2 when ``--device`` names a device
that cannot be used, with the reason and the fix on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import json
import os
import platform
import socket
import struct
import sys
import textwrap
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import zmq

from patchwire._version import __version__
from patchwire.errors import ConfigurationError
from patchwire.runtime.config import DEFAULT_PORT
from patchwire.runtime.interfaces import (
    INTERFACE_DETAILS,
    Interface,
    broadcast_address,
    default_interface,
    find_interface,
    list_interfaces,
)

__all__ = ["Report", "collect", "register", "render", "run"]

_CZMQ_DYNAMIC_PORTS = "49152-65535"  # czmq binds tcp://IP:* in 0xc000..0xffff (zre.md §3.1)
_WIDTH = 100  # human output is wrapped to this many columns


@dataclass(frozen=True, slots=True, kw_only=True)
class Software:
    """Versions of everything between the user and the wire."""

    patchwire: str
    python: str
    implementation: str
    executable: str
    platform: str
    event_loop_policy: str
    pyzmq: str
    libzmq: str
    curve: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    """The device beacons would use, and why; ``error`` when there is none."""

    source: str  # "--device" or "default"
    device: str | None
    address: str | None
    broadcast: str | None
    reason: str | None
    error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PortUser:
    """A socket of this host that already uses the beacon port (from /proc/net/udp*)."""

    local: str
    uid: int
    pid: int | None
    command: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PortCheck:
    """Can this process receive beacons on ``port``, and who else already does."""

    port: int
    bind_options: tuple[str, ...]
    bindable: bool
    bind_error: str | None
    in_use: bool | None  # None: could not tell
    users: tuple[PortUser, ...]
    so_broadcast: bool
    so_broadcast_error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """Where this process runs: container, network namespace, ephemeral ports."""

    container: str | None
    container_evidence: str | None
    network_namespace: str | None
    network_namespace_name: str | None
    same_network_namespace_as_pid1: bool | None
    ephemeral_ports: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Everything ``doctor`` prints; ``--json`` prints it as one object."""

    software: Software
    interfaces: tuple[Interface, ...]
    discovery: Discovery
    beacon_port: PortCheck
    environment: Environment
    hints: tuple[str, ...]

    def to_json(self) -> str:
        """One JSON object, keys as the dataclass fields."""
        return json.dumps(dataclasses.asdict(self), indent=2)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``doctor`` subcommand."""
    parser = subparsers.add_parser(
        "doctor",
        help="print versions, network devices and beacon-port checks to debug discovery",
        description="Print the environment discovery depends on. Read-only: sends nothing.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--device", metavar="DEV", help="check this device instead of the default")
    parser.add_argument(
        "--port",
        metavar="P",
        type=_port,
        default=DEFAULT_PORT,
        help=f"beacon UDP port (default {DEFAULT_PORT})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Collect, print, and return the exit status."""
    report = collect(device=args.device, port=args.port)
    print(report.to_json() if args.json else render(report))
    if args.device is not None and report.discovery.error is not None:
        print(f"patchwire doctor: error: {report.discovery.error}", file=sys.stderr)
        return 2
    return 0


def collect(*, device: str | None = None, port: int = DEFAULT_PORT) -> Report:
    """Gather the report. Sends nothing."""
    interfaces = tuple(list_interfaces())
    discovery = _discovery(interfaces, device)
    beacon_port = _check_port(port)
    environment = _environment()
    hints = _hints(interfaces, discovery, beacon_port, environment)
    return Report(
        software=_software(),
        interfaces=interfaces,
        discovery=discovery,
        beacon_port=beacon_port,
        environment=environment,
        hints=tuple(hints),
    )


# -- collection --------------------------------------------------------------------------------


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a UDP port; use 1-65535")
    return value


def _software() -> Software:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the policy API is deprecated in 3.14
        policy = type(asyncio.get_event_loop_policy()).__name__
    return Software(
        patchwire=__version__,
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        executable=sys.executable,
        platform=platform.platform(),
        event_loop_policy=policy,
        pyzmq=zmq.pyzmq_version(),
        libzmq=zmq.zmq_version(),
        curve=bool(zmq.has("curve")),
    )


def _discovery(interfaces: Sequence[Interface], device: str | None) -> Discovery:
    source = "default" if device is None else "--device"
    try:
        if device is None:
            iface, reason = default_interface(interfaces=interfaces)
        else:
            iface = find_interface(device=device, interfaces=interfaces)
            reason = "named by --device"
    except ConfigurationError as exc:
        return Discovery(
            source=source, device=device, address=None, broadcast=None, reason=None, error=str(exc)
        )
    try:
        broadcast: str | None = broadcast_address(iface)
    except ConfigurationError:
        broadcast = None
    return Discovery(
        source=source,
        device=iface.name,
        address=iface.address,
        broadcast=broadcast,
        reason=reason,
        error=None,
    )


def _check_port(port: int) -> PortCheck:
    users = _proc_port_users(port)  # before our own bind, so that we do not list ourselves
    in_use = None if users is None else bool(users)
    options = [("SO_REUSEADDR", socket.SO_REUSEADDR)]
    reuseport = getattr(socket, "SO_REUSEPORT", None)
    if reuseport is not None:
        options.append(("SO_REUSEPORT", reuseport))
    bind_error: str | None = None
    broadcast_error: str | None = None
    so_broadcast = False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            for _, option in options:
                sock.setsockopt(socket.SOL_SOCKET, option, 1)
            sock.bind(("0.0.0.0", port))
        except OSError as exc:
            bind_error = _oserror(exc)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            so_broadcast = sock.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST) != 0
        except OSError as exc:
            broadcast_error = _oserror(exc)
    if users is None:
        in_use = _exclusive_bind_fails(port)
    return PortCheck(
        port=port,
        bind_options=tuple(name for name, _ in options),
        bindable=bind_error is None,
        bind_error=bind_error,
        in_use=in_use,
        users=users or (),
        so_broadcast=so_broadcast,
        so_broadcast_error=broadcast_error,
    )


def _oserror(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _exclusive_bind_fails(port: int) -> bool | None:
    """Fallback without /proc: a bind without SO_REUSE* fails if any socket holds the port.

    The socket exists for microseconds; a node starting in that instant could fail to bind.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError as exc:
            return True if exc.errno == errno.EADDRINUSE else None
    return False


def _proc_port_users(port: int) -> tuple[PortUser, ...] | None:
    """Sockets bound to UDP ``port`` in this network namespace; None without /proc/net/udp."""
    found: list[tuple[str, int, int]] = []
    readable = False
    for table, family in (("/proc/net/udp", socket.AF_INET), ("/proc/net/udp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            address, _, port_hex = fields[1].partition(":")
            if int(port_hex, 16) != port:
                continue
            found.append(
                (f"{_proc_address(address, family)}:{port}", int(fields[7]), int(fields[9]))
            )
    if not readable:
        return None
    owners = _socket_owners({inode for _, _, inode in found}) if found else {}
    users = []
    for local, uid, inode in found:
        pid = owners.get(inode)
        users.append(PortUser(local=local, uid=uid, pid=pid, command=_command(pid)))
    return tuple(users)


def _proc_address(hex_address: str, family: int) -> str:
    """/proc/net/udp prints each 32-bit word of the address in host byte order."""
    words = [int(hex_address[i : i + 8], 16) for i in range(0, len(hex_address), 8)]
    raw = b"".join(struct.pack("=I", word) for word in words)
    text = socket.inet_ntop(family, raw)
    return text if family == socket.AF_INET else f"[{text}]"


def _socket_owners(inodes: set[int]) -> dict[int, int]:
    """Map socket inodes to the first pid holding them (only processes we may inspect)."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    owners: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                inode = wanted.get(os.readlink(fd))
            except OSError:
                continue
            if inode is not None:
                owners.setdefault(inode, int(proc.name))
        if len(owners) == len(wanted):
            break
    return owners


def _command(pid: int | None) -> str | None:
    if pid is None:
        return None
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def _environment() -> Environment:
    namespace = _readlink("/proc/self/ns/net")
    init_namespace = _readlink("/proc/1/ns/net")
    same = None if namespace is None or init_namespace is None else namespace == init_namespace
    container, evidence = _container()
    return Environment(
        container=container,
        container_evidence=evidence,
        network_namespace=namespace,
        network_namespace_name=_netns_name(),
        same_network_namespace_as_pid1=same,
        ephemeral_ports=_ephemeral_ports(),
    )


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _container() -> tuple[str | None, str | None]:
    """A best guess at the container runtime and what gave it away."""
    if Path("/.dockerenv").exists():
        return "docker", "/.dockerenv"
    if Path("/run/.containerenv").exists():
        return "podman", "/run/.containerenv"
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return "kubernetes", "$KUBERNETES_SERVICE_HOST"
    kind = os.environ.get("container")
    if kind:
        return kind, "$container"
    try:
        cgroup = Path("/proc/1/cgroup").read_text()
    except OSError:
        return None, None
    for marker in ("docker", "kubepods", "containerd", "lxc", "libpod"):
        if marker in cgroup:
            return marker, "/proc/1/cgroup"
    return None, None


def _netns_name() -> str | None:
    """The ``ip netns`` name of our network namespace, if it has one."""
    try:
        ours = os.stat("/proc/self/ns/net").st_ino
        named = list(Path("/run/netns").iterdir())
    except OSError:
        return None
    for path in named:
        try:
            if path.stat().st_ino == ours:
                return path.name
        except OSError:
            continue
    return None


def _ephemeral_ports() -> str | None:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except (OSError, ValueError):
        return None
    return f"{low}-{high}"


# -- hints ---------------------------------------------------------------------------------------


def _hints(
    interfaces: Sequence[Interface],
    discovery: Discovery,
    port: PortCheck,
    environment: Environment,
) -> list[str]:
    hints: list[str] = []
    broker = "--broker tcp://HOST:PORT"
    if not INTERFACE_DETAILS:
        hints.append(
            "This platform gives device names only (no addresses or flags): name the device "
            "or IP address explicitly, or use brokers."
        )
    elif not any(
        i.up and i.address and i.can_broadcast and not i.loopback and not i.point_to_point
        for i in interfaces
    ):
        hints.append(
            "No device is up, broadcast-capable and with an IPv4 address, so beacons cannot "
            f"reach other hosts: use brokers instead ({broker})."
        )
    chosen = next((i for i in interfaces if i.name == discovery.device), None)
    if discovery.error is None and chosen is not None:
        if chosen.loopback:
            hints.append(
                f"Discovery would use loopback {chosen.name}: beacons go to 127.255.255.255 and "
                f"reach only nodes on this host. Real Ingescape agents refuse {chosen.name} "
                "(they need a broadcast-capable device), so to meet them use a real device "
                f"(--device) or brokers ({broker})."
            )
        elif discovery.broadcast is None:
            hints.append(
                f"{chosen.name} cannot broadcast (point-to-point or no IFF_BROADCAST): beacons "
                f"cannot be sent on it; choose another device or use brokers ({broker})."
            )
    if not port.bindable:
        hints.append(
            f"Cannot bind UDP 0.0.0.0:{port.port} with {'|'.join(port.bind_options)} "
            f"({port.bind_error}): another process holds it without SO_REUSEPORT, or runs as "
            "another user (on Linux SO_REUSEPORT shares a port only between sockets of the same "
            "user). Stop it, or use another --port on every node."
        )
    if port.in_use:
        hints.append(
            f"UDP port {port.port} is already used on this host by {len(port.users) or 'some'} "
            "socket(s): normal when other nodes run here; they share it through "
            "SO_REUSEADDR|SO_REUSEPORT."
        )
    if not port.so_broadcast:
        hints.append(
            f"SO_BROADCAST cannot be set ({port.so_broadcast_error}): beacons cannot be sent; "
            f"use brokers ({broker})."
        )
    ephemeral = environment.ephemeral_ports or "the OS ephemeral range"
    hints.append(
        f"Firewall: between hosts, UDP port {port.port} (beacons, sent to the subnet broadcast "
        "address) and TCP to each node's listening ports must be open. Those ports are "
        f"ephemeral: Ingescape agents bind in {_CZMQ_DYNAMIC_PORTS}; this host's ephemeral "
        f"range is {ephemeral}."
    )
    if environment.container is not None:
        hints.append(
            f"Running in a container ({environment.container}): beacons reach only the "
            "container's own network. On Docker's default bridge other hosts never see them; "
            f"use host networking (docker run --network host) or brokers ({broker})."
        )
    if interfaces and all(i.loopback for i in interfaces):
        when = "" if all(i.up for i in interfaces) else " once loopback is up"
        hints.append(
            "Only loopback exists in this network namespace (as under `unshare --net` or "
            "`docker run --network none`): nothing can leave this host; patchwire nodes on it can "
            f"still meet through 127.255.255.255{when}."
        )
    if environment.network_namespace_name is not None or (
        environment.same_network_namespace_as_pid1 is False
    ):
        name = environment.network_namespace_name
        label = f" ({name})" if name else ""
        hints.append(
            f"This process runs in a separate network namespace{label}: it sees only that "
            "namespace's devices, and beacons stay inside it unless a veth or bridge links it "
            "to others."
        )
    if sys.platform == "win32":
        hints.append(
            "Windows: pyzmq's asyncio support needs a SelectorEventLoop, not the default "
            "ProactorEventLoop; patchwire.sync creates one for its thread."
        )
    return hints


# -- rendering -----------------------------------------------------------------------------------


def render(report: Report) -> str:
    """Plain aligned text."""
    sw = report.software
    lines = ["patchwire doctor", ""]
    lines += _section(
        "Software",
        [
            ("patchwire", sw.patchwire),
            ("Python", f"{sw.python} ({sw.implementation}, {sw.executable})"),
            ("platform", sw.platform),
            ("event loop policy", sw.event_loop_policy),
            ("pyzmq", sw.pyzmq),
            ("libzmq", sw.libzmq),
            ("CURVE", "yes" if sw.curve else "no (libzmq built without libsodium/tweetnacl)"),
        ],
    )
    lines += ["Interfaces"]
    rows = [("#", "name", "state", "IPv4", "netmask", "broadcast", "flags")]
    rows += [
        (
            str(i.index),
            i.name,
            _state(i),
            i.address or "-",
            i.netmask or "-",
            i.broadcast or "-",
            ",".join(i.flags) or "-",
        )
        for i in report.interfaces
    ]
    lines += _table(rows) if report.interfaces else ["  (none found)"]
    lines.append("")
    d = report.discovery
    if d.error is None:
        where = f"{d.device} ({d.address}, broadcast {d.broadcast or 'none'})"
        pairs = [("interface", where), ("why", d.reason or "")]
    else:
        pairs = [("interface", "none"), ("error", d.error)]
    lines += _section(f"Discovery ({d.source})", pairs)
    p = report.beacon_port
    lines += _section(
        f"Beacon port {p.port}/udp",
        [
            (
                "bind 0.0.0.0",
                f"ok ({', '.join(p.bind_options)})" if p.bindable else f"FAILED: {p.bind_error}",
            ),
            ("already in use", _in_use(p)),
            ("SO_BROADCAST", "ok" if p.so_broadcast else f"FAILED: {p.so_broadcast_error}"),
        ],
    )
    env = report.environment
    namespace = env.network_namespace or "unknown"
    if env.network_namespace_name:
        namespace += f" (ip netns {env.network_namespace_name})"
    if env.same_network_namespace_as_pid1 is not None:
        namespace += " same as PID 1" if env.same_network_namespace_as_pid1 else " not PID 1's"
    lines += _section(
        "Environment",
        [
            ("container", _container_text(env)),
            ("network namespace", namespace),
            ("ephemeral ports", env.ephemeral_ports or "unknown"),
        ],
    )
    lines.append("Hints")
    for hint in report.hints:
        lines += textwrap.wrap(hint, _WIDTH, initial_indent="  - ", subsequent_indent="    ")
    return "\n".join(lines)


def _container_text(env: Environment) -> str:
    if env.container is None:
        return "none detected"
    return f"{env.container} ({env.container_evidence})"


def _state(iface: Interface) -> str:
    if not iface.up:
        return "down"
    if iface.flags and "RUNNING" not in iface.flags:
        return "up, no carrier"
    return "up"


def _in_use(port: PortCheck) -> str:
    if port.in_use is None:
        return "unknown"
    if not port.in_use:
        return "no"
    if not port.users:
        return "yes"
    owners = []
    for user in port.users:
        who = f"pid {user.pid} {user.command or ''}".strip() if user.pid else f"uid {user.uid}"
        owners.append(f"{user.local} ({who})")
    return "yes: " + ", ".join(owners)


def _section(title: str, pairs: Iterable[tuple[str, str]]) -> list[str]:
    items = list(pairs)
    width = max(len(label) for label, _ in items)
    lines = [title]
    for label, value in items:
        head = f"  {label.ljust(width)}  "
        wrapped = textwrap.wrap(value, _WIDTH - len(head), break_long_words=False) or [""]
        lines.append(head + wrapped[0])
        lines += [" " * len(head) + more for more in wrapped[1:]]
    return [*lines, ""]


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
