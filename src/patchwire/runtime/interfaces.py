"""Network devices and their IPv4 addresses, as beacon discovery needs them (stdlib only).

Layer: runtime. This module only reads kernel state; it never sends anything.

On Linux the facts come from ``ioctl`` requests on a throw-away UDP socket (SIOCGIFFLAGS,
SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFBRDADDR): the flags and addresses czmq's ``ziflist`` reads
before Zyre picks a device. macOS and the BSDs answer the same requests under other numbers (that
path is untested). Anywhere else (Windows) only names and indexes are known: addresses are ``None``
and flags ``False``; :data:`INTERFACE_DETAILS` says which case applies.

Limits: IPv4 only, and only the *primary* address of a device (the one SIOCGIFADDR returns).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from patchwire.errors import ConfigurationError

if sys.platform != "win32":
    import fcntl

__all__ = [
    "INTERFACE_DETAILS",
    "LOOPBACK_BROADCAST",
    "Interface",
    "broadcast_address",
    "default_interface",
    "describe_available",
    "find_interface",
    "list_interfaces",
]

LOOPBACK_BROADCAST = "127.255.255.255"
"""Where beacons go on loopback: Linux routes it to every socket bound to the port (zre.md §2.4)."""

# Interface flags (<net/if.h>); the low bits are the same on Linux and the BSDs.
_IFF_UP = 0x1
_IFF_BROADCAST = 0x2
_IFF_LOOPBACK = 0x8
_IFF_POINTOPOINT = 0x10
_COMMON_FLAG_NAMES = (
    (0x1, "UP"),
    (0x2, "BROADCAST"),
    (0x8, "LOOPBACK"),
    (0x10, "POINTOPOINT"),
    (0x40, "RUNNING"),
    (0x80, "NOARP"),
    (0x100, "PROMISC"),
    (0x200, "ALLMULTI"),
)
_IFNAMSIZ = 16  # interface names are at most 15 bytes plus a NUL, on Linux and the BSDs
_IFREQ_SIZE = 256  # larger than any struct ifreq; fcntl.ioctl copies it into its own buffer


class _Requests(NamedTuple):
    """ioctl request numbers of one platform family."""

    flags: int
    addr: int
    netmask: int
    broadaddr: int
    multicast_flag: int


_LINUX = _Requests(0x8913, 0x8915, 0x891B, 0x8919, 0x1000)
# _IOWR('i', n, struct ifreq) with sizeof(struct ifreq) == 32.
_BSD = _Requests(0xC0206911, 0xC0206921, 0xC0206925, 0xC0206923, 0x8000)


def _platform_requests(platform: str) -> _Requests | None:
    if platform.startswith("linux"):
        return _LINUX
    if platform == "darwin" or "bsd" in platform:
        return _BSD
    return None


_REQUESTS = _platform_requests(sys.platform)
_LINUX_LOOPBACK_BROADCAST = sys.platform.startswith("linux")

INTERFACE_DETAILS: bool = _REQUESTS is not None
"""True when flags and addresses can be read here; False means names and indexes only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Interface:
    """One network device, as the kernel reports it.

    ``can_broadcast`` is the IFF_BROADCAST flag, except for loopback on Linux: the kernel does not
    set the flag on ``lo``, yet it delivers datagrams sent to 127.255.255.255 to every socket bound
    to the port, so loopback reports ``True`` there (and ``broadcast`` is 127.255.255.255).
    Real Ingescape agents still refuse ``lo`` (zre.md §2.4).
    """

    name: str
    index: int
    address: str | None
    """Primary IPv4 address, or None when the device has none."""
    netmask: str | None
    broadcast: str | None
    """IPv4 broadcast address: the kernel's, else address|~netmask; None if it cannot broadcast."""
    up: bool
    loopback: bool
    can_broadcast: bool
    point_to_point: bool
    flags: tuple[str, ...] = ()
    """Symbolic kernel flags, e.g. ``("UP", "BROADCAST", "RUNNING", "MULTICAST")``."""


def list_interfaces() -> list[Interface]:
    """Every network device of this network namespace, ordered by index."""
    if_nameindex = getattr(socket, "if_nameindex", None)
    if if_nameindex is None:
        return []
    try:
        names: list[tuple[int, str]] = if_nameindex()
    except OSError:
        return []
    return _describe_all(sorted(names))


def find_interface(
    *,
    device: str | None = None,
    ip: str | None = None,
    interfaces: Sequence[Interface] | None = None,
) -> Interface:
    """The device named ``device``, or the one whose primary IPv4 address is ``ip``.

    Give exactly one of them. ``interfaces`` defaults to :func:`list_interfaces`.
    Raises ConfigurationError (listing the available devices) when there is no such device, or when
    it is down or has no IPv4 address.
    """
    if (device is None) == (ip is None):
        raise ConfigurationError(
            "give exactly one of device= (e.g. 'eth0') or ip= (its IPv4 address)"
        )
    ifaces = list_interfaces() if interfaces is None else list(interfaces)
    available = f"available devices: {describe_available(ifaces)}"
    if device is not None:
        found = next((i for i in ifaces if i.name == device), None)
        if found is None:
            raise ConfigurationError(
                f"no network device named {device!r}; {available}. Use one of these names."
            )
    else:
        assert ip is not None
        _check_ipv4(ip)
        found = next((i for i in ifaces if i.address == ip), None)
        if found is None:
            raise ConfigurationError(
                f"no network device has the IPv4 address {ip}; {available}. "
                "Use one of these addresses or device names."
            )
    if not found.up:
        raise ConfigurationError(
            f"network device {found.name!r} is down; bring it up "
            f"(Linux: ip link set {found.name} up) or choose another device; {available}"
        )
    if found.address is None:
        raise ConfigurationError(
            f"network device {found.name!r} has no IPv4 address; give it one or choose another "
            f"device; {available}"
        )
    return found


def default_interface(*, interfaces: Sequence[Interface] | None = None) -> tuple[Interface, str]:
    """The device discovery uses when none is given, and why.

    The first device (by index) that is up, broadcast-capable, neither loopback nor point-to-point,
    and has an IPv4 address; else loopback, if it is up with an IPv4 address. Raises
    ConfigurationError when neither exists.
    """
    ifaces = list_interfaces() if interfaces is None else list(interfaces)
    for iface in ifaces:
        if _usable_for_broadcast(iface):
            return iface, (
                f"{iface.name} is the first device that is up, broadcast-capable, "
                "not loopback and has an IPv4 address"
            )
    skipped = "; ".join(f"{i.name}: {_why_skipped(i)}" for i in ifaces if not i.loopback)
    skipped = f" (skipped {skipped})" if skipped else ""
    for iface in ifaces:
        if iface.loopback and iface.up and iface.address is not None:
            return iface, (
                "no device is up, broadcast-capable, not loopback and with an IPv4 address"
                f"{skipped}, so loopback {iface.name} is used: beacons go to "
                f"{broadcast_address(iface)} and reach only this host"
            )
    raise ConfigurationError(
        "no usable network device: none is up with an IPv4 address "
        f"({describe_available(ifaces)}). Bring one up (Linux: ip link set lo up) "
        "or name a device, or use brokers instead of beacons."
    )


def broadcast_address(iface: Interface) -> str:
    """Where beacons are sent on ``iface``: its subnet broadcast address.

    Loopback gives 127.255.255.255. Otherwise the kernel's broadcast address, or address|~netmask
    when it reports none (as czmq's ziflist does). Raises ConfigurationError when ``iface``
    cannot broadcast or has no IPv4 address.
    """
    if iface.address is None or iface.netmask is None:
        raise ConfigurationError(
            f"network device {iface.name!r} has no IPv4 address, so it has no broadcast address; "
            "give it one or choose another device"
        )
    if iface.loopback:
        return LOOPBACK_BROADCAST
    if not iface.can_broadcast:
        kind = "point-to-point" if iface.point_to_point else "without IFF_BROADCAST"
        raise ConfigurationError(
            f"network device {iface.name!r} cannot broadcast ({kind}); choose a broadcast-capable "
            "device, or use brokers instead of beacons"
        )
    if iface.broadcast is not None and iface.broadcast != "0.0.0.0":
        return iface.broadcast
    return _subnet_broadcast(iface.address, iface.netmask)


def describe_available(ifaces: Sequence[Interface]) -> str:
    """``"lo (127.0.0.1), eth0 (192.0.2.2), ifb0 (down, no IPv4)"`` for error messages."""
    if not ifaces:
        return "none found"
    parts = []
    for iface in ifaces:
        notes = [] if iface.up else ["down"]
        notes.append(iface.address or "no IPv4")
        parts.append(f"{iface.name} ({', '.join(notes)})")
    return ", ".join(parts)


def _usable_for_broadcast(iface: Interface) -> bool:
    return (
        iface.up
        and iface.address is not None
        and iface.can_broadcast
        and not iface.loopback
        and not iface.point_to_point
    )


def _why_skipped(iface: Interface) -> str:
    reasons = []
    if not iface.up:
        reasons.append("down")
    if iface.address is None:
        reasons.append("no IPv4")
    if iface.point_to_point:
        reasons.append("point-to-point")
    elif not iface.can_broadcast:
        reasons.append("no broadcast")
    return ", ".join(reasons) or "not usable"


def _check_ipv4(ip: str) -> None:
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        raise ConfigurationError(
            f"{ip!r} is not an IPv4 address (only IPv4 is supported); "
            "write it as e.g. '192.168.1.10'"
        ) from None


def _subnet_broadcast(address: str, netmask: str) -> str:
    addr = int(ipaddress.IPv4Address(address))
    mask = int(ipaddress.IPv4Address(netmask))
    return str(ipaddress.IPv4Address(addr | (~mask & 0xFFFFFFFF)))


def _bare(index: int, name: str) -> Interface:
    return Interface(
        name=name,
        index=index,
        address=None,
        netmask=None,
        broadcast=None,
        up=False,
        loopback=False,
        can_broadcast=False,
        point_to_point=False,
    )


if sys.platform == "win32":

    def _describe_all(names: list[tuple[int, str]]) -> list[Interface]:
        return [_bare(index, name) for index, name in names]

else:

    def _describe_all(names: list[tuple[int, str]]) -> list[Interface]:
        if _REQUESTS is None:
            return [_bare(index, name) for index, name in names]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            return [_read(sock.fileno(), index, name, _REQUESTS) for index, name in names]

    def _ifreq(name: str) -> bytes | None:
        raw = name.encode("utf-8", "surrogateescape")
        if len(raw) >= _IFNAMSIZ:
            return None
        return struct.pack(f"{_IFREQ_SIZE}s", raw)

    def _ioctl_flags(fd: int, request: bytes, code: int) -> int:
        try:
            reply = fcntl.ioctl(fd, code, request)
        except OSError:
            return 0
        flags: int = struct.unpack_from("H", reply, _IFNAMSIZ)[0]
        return flags

    def _ioctl_ipv4(fd: int, request: bytes, code: int) -> str | None:
        try:
            reply = fcntl.ioctl(fd, code, request)
        except OSError:  # EADDRNOTAVAIL: no IPv4 address on this device
            return None
        # struct sockaddr_in at offset 16: family (or len+family), port, then the address.
        return socket.inet_ntoa(reply[_IFNAMSIZ + 4 : _IFNAMSIZ + 8])

    def _read(fd: int, index: int, name: str, codes: _Requests) -> Interface:
        request = _ifreq(name)
        if request is None:
            return _bare(index, name)
        flags = _ioctl_flags(fd, request, codes.flags)
        address = _ioctl_ipv4(fd, request, codes.addr)
        netmask = _ioctl_ipv4(fd, request, codes.netmask) if address is not None else None
        loopback = bool(flags & _IFF_LOOPBACK)
        can_broadcast = bool(flags & _IFF_BROADCAST) or (loopback and _LINUX_LOOPBACK_BROADCAST)
        broadcast: str | None = None
        if address is not None and netmask is not None and can_broadcast:
            if loopback:
                broadcast = LOOPBACK_BROADCAST
            else:
                kernel = _ioctl_ipv4(fd, request, codes.broadaddr)
                if kernel is None or kernel == "0.0.0.0":
                    kernel = _subnet_broadcast(address, netmask)
                broadcast = kernel
        names = [label for bit, label in _COMMON_FLAG_NAMES if flags & bit]
        if flags & codes.multicast_flag:
            names.append("MULTICAST")
        return Interface(
            name=name,
            index=index,
            address=address,
            netmask=netmask,
            broadcast=broadcast,
            up=bool(flags & _IFF_UP),
            loopback=loopback,
            can_broadcast=can_broadcast,
            point_to_point=bool(flags & _IFF_POINTOPOINT),
            flags=tuple(names),
        )
