"""patchwire.runtime.interfaces: device listing, lookup, default choice, broadcast address.

The ``netns`` tests build a private network namespace (veth pairs, a tun device) and read it from
a child process run with ``ip netns exec``; nothing is ever sent.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from patchwire.errors import ConfigurationError
from patchwire.runtime.interfaces import (
    LOOPBACK_BROADCAST,
    Interface,
    broadcast_address,
    default_interface,
    find_interface,
    list_interfaces,
)

SRC = Path(__file__).resolve().parents[3] / "src"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux ioctls")


def make(name: str, index: int = 1, **changes: Any) -> Interface:
    """A synthetic up, broadcast-capable device with 10.0.0.1/24."""
    fields: dict[str, Any] = {
        "name": name,
        "index": index,
        "address": "10.0.0.1",
        "netmask": "255.255.255.0",
        "broadcast": None,
        "up": True,
        "loopback": False,
        "can_broadcast": True,
        "point_to_point": False,
    }
    fields.update(changes)
    return Interface(**fields)


LO = make(
    "lo",
    1,
    address="127.0.0.1",
    netmask="255.0.0.0",
    broadcast=LOOPBACK_BROADCAST,
    loopback=True,
)


# -- the real devices of this namespace ------------------------------------------------------------


@linux_only
def test_list_interfaces_includes_loopback() -> None:
    ifaces = list_interfaces()
    lo = next(i for i in ifaces if i.name == "lo")
    assert lo.loopback
    assert lo.address == "127.0.0.1"
    assert lo.netmask == "255.0.0.0"
    assert lo.broadcast == "127.255.255.255"
    assert lo.can_broadcast
    assert not lo.point_to_point
    assert "LOOPBACK" in lo.flags


def test_list_interfaces_is_ordered_by_unique_index() -> None:
    indexes = [i.index for i in list_interfaces()]
    assert indexes == sorted(set(indexes))


@linux_only
def test_find_loopback_by_device_and_by_ip() -> None:
    by_device = find_interface(device="lo")
    by_ip = find_interface(ip="127.0.0.1")
    assert by_device == by_ip
    assert by_device.loopback
    assert broadcast_address(by_device) == "127.255.255.255"


@linux_only
def test_unknown_device_lists_the_available_devices() -> None:
    with pytest.raises(ConfigurationError) as info:
        find_interface(device="nope0")
    message = str(info.value)
    assert "'nope0'" in message
    assert "lo (127.0.0.1)" in message
    for iface in list_interfaces():
        assert iface.name in message
    assert isinstance(info.value, ValueError)


def test_default_interface_gives_a_reason() -> None:
    ifaces = list_interfaces()
    if not any(i.up and i.address for i in ifaces):  # nothing up: the error says what to do
        with pytest.raises(ConfigurationError, match="Bring one up"):
            default_interface(interfaces=ifaces)
        return
    iface, reason = default_interface(interfaces=ifaces)
    assert isinstance(reason, str)
    assert iface.name in reason
    assert iface.up
    assert iface.address is not None


# -- lookup rules on synthetic devices -----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"device": "lo", "ip": "127.0.0.1"}],
    ids=["neither", "both"],
)
def test_find_interface_needs_exactly_one_key(kwargs: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="exactly one"):
        find_interface(interfaces=[LO], **kwargs)


def test_find_interface_by_ip_errors() -> None:
    with pytest.raises(ConfigurationError, match="not an IPv4 address"):
        find_interface(ip="eth0", interfaces=[LO])
    with pytest.raises(ConfigurationError, match="not an IPv4 address"):
        find_interface(ip="::1", interfaces=[LO])
    with pytest.raises(ConfigurationError, match=r"203\.0\.113\.7.*lo \(127\.0\.0\.1\)"):
        find_interface(ip="203.0.113.7", interfaces=[LO])


def test_find_interface_refuses_down_or_without_ipv4() -> None:
    ifaces = [LO, make("eth1", 2, up=False), make("eth2", 3, address=None, netmask=None)]
    with pytest.raises(ConfigurationError, match=r"'eth1' is down.*ip link set eth1 up"):
        find_interface(device="eth1", interfaces=ifaces)
    with pytest.raises(ConfigurationError, match=r"'eth2' has no IPv4 address"):
        find_interface(device="eth2", interfaces=ifaces)
    with pytest.raises(ConfigurationError, match=r"eth1 \(down, 10\.0\.0\.1\), eth2 \(no IPv4\)"):
        find_interface(device="eth9", interfaces=ifaces)
    assert find_interface(ip="10.0.0.1", interfaces=[LO, make("eth3", 4)]).name == "eth3"


def test_default_interface_skips_unusable_devices() -> None:
    ifaces = [
        LO,
        make("down0", 2, up=False),
        make("noip0", 3, address=None, netmask=None),
        make("tun0", 4, point_to_point=True, can_broadcast=False),
        make("nobc0", 5, can_broadcast=False),
        make("eth0", 6, address="192.168.1.5"),
        make("eth1", 7),
    ]
    iface, reason = default_interface(interfaces=ifaces)
    assert iface.name == "eth0"
    assert "first" in reason


def test_default_interface_falls_back_to_loopback() -> None:
    iface, reason = default_interface(interfaces=[LO, make("down0", 2, up=False)])
    assert iface is LO
    assert "loopback" in reason
    assert "127.255.255.255" in reason
    assert "down0: down" in reason


def test_default_interface_without_any_usable_device() -> None:
    lo_down = dataclasses.replace(LO, up=False, address=None, netmask=None, broadcast=None)
    with pytest.raises(ConfigurationError, match=r"ip link set lo up.*brokers"):
        default_interface(interfaces=[lo_down])
    with pytest.raises(ConfigurationError, match="none found"):
        default_interface(interfaces=[])


# -- broadcast_address (pure) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "netmask", "kernel", "expected"),
    [
        ("10.77.0.1", "255.255.255.0", None, "10.77.0.255"),
        ("10.1.2.3", "255.255.240.0", None, "10.1.15.255"),
        ("172.16.5.4", "255.255.0.0", "0.0.0.0", "172.16.255.255"),  # kernel "none"
        ("192.168.1.9", "255.255.255.252", None, "192.168.1.11"),
        ("192.168.1.9", "255.255.255.255", None, "192.168.1.9"),
        ("10.9.8.7", "255.0.0.0", "10.9.8.255", "10.9.8.255"),  # the kernel's value wins
    ],
)
def test_broadcast_address_computed(
    address: str, netmask: str, kernel: str | None, expected: str
) -> None:
    iface = make("eth0", address=address, netmask=netmask, broadcast=kernel)
    assert broadcast_address(iface) == expected


def test_broadcast_address_loopback_and_errors() -> None:
    assert broadcast_address(dataclasses.replace(LO, broadcast=None)) == "127.255.255.255"
    with pytest.raises(ConfigurationError, match=r"'tun0' cannot broadcast \(point-to-point\)"):
        broadcast_address(make("tun0", point_to_point=True, can_broadcast=False))
    with pytest.raises(ConfigurationError, match="no IPv4 address"):
        broadcast_address(make("eth0", address=None, netmask=None))


# -- real kernel state inside a private namespace ------------------------------------------------

PROBE = """
import dataclasses, json, sys
from patchwire.errors import ConfigurationError
from patchwire.runtime.interfaces import default_interface, find_interface, list_interfaces

def attempt(**kwargs):
    try:
        return find_interface(**kwargs).name
    except ConfigurationError as exc:
        return "error: " + str(exc)

out = {"interfaces": {i.name: dataclasses.asdict(i) for i in list_interfaces()}}
try:
    out["default"] = list((lambda i, r: (i.name, r))(*default_interface()))
except ConfigurationError as exc:
    out["default"] = [None, str(exc)]
out["devices"] = {name: attempt(device=name) for name in sys.argv[1:]}
out["ips"] = {name: attempt(ip=name) for name in sys.argv[1:] if name[0].isdigit()}
print(json.dumps(out))
"""


def require_root() -> None:
    missing = [tool for tool in ("ip", "unshare") if shutil.which(tool) is None]
    if os.geteuid() == 0 and not missing:
        return
    why = f"needs root and {', '.join(missing)}" if missing else "needs root"
    if os.environ.get("CI"):
        pytest.fail(f"netns test {why}, and CI is set")
    pytest.skip(f"netns test {why}")


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=30)


def probe(prefix: list[str], *names: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [*prefix, sys.executable, "-c", PROBE, *names],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def lab() -> Iterator[str]:
    """A namespace with lo, an up veth pair (one end without IPv4), a down veth and a tun."""
    require_root()
    ns = f"pw-{os.getpid()}-ifaces"
    sh("ip", "netns", "add", ns)
    try:
        for command in (
            "link set lo up",
            "link add pwv0 type veth peer name pwv1",
            "addr add 10.79.0.1/24 dev pwv0",  # no brd: the kernel reports 0.0.0.0
            "link set pwv0 up",
            "link set pwv1 up",
            "link add pwd0 type veth peer name pwd1",
            "addr add 10.79.1.1/24 brd 10.79.1.200 dev pwd0",
            "tuntap add dev pwtun0 mode tun",
            "addr add 10.79.3.1 peer 10.79.3.2 dev pwtun0",
            "link set pwtun0 up",
        ):
            sh("ip", "-n", ns, *command.split())
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True, timeout=30)


@pytest.mark.netns
@linux_only
def test_namespace_devices(lab: str) -> None:
    out = probe(
        ["ip", "netns", "exec", lab], "pwv0", "pwv1", "pwd0", "pwtun0", "nope0", "10.79.0.1"
    )
    ifaces = out["interfaces"]
    assert set(ifaces) == {"lo", "pwv0", "pwv1", "pwd0", "pwd1", "pwtun0"}

    pwv0 = ifaces["pwv0"]
    assert (pwv0["address"], pwv0["netmask"]) == ("10.79.0.1", "255.255.255.0")
    assert pwv0["broadcast"] == "10.79.0.255"  # computed: the kernel gave none
    assert (pwv0["up"], pwv0["can_broadcast"]) == (True, True)
    assert (pwv0["loopback"], pwv0["point_to_point"]) == (False, False)

    assert (ifaces["pwv1"]["up"], ifaces["pwv1"]["address"]) == (True, None)
    assert ifaces["pwd0"]["broadcast"] == "10.79.1.200"  # the kernel's own value
    assert not ifaces["pwd0"]["up"]
    tun = ifaces["pwtun0"]
    assert (tun["point_to_point"], tun["can_broadcast"]) == (True, False)
    assert (tun["address"], tun["netmask"], tun["broadcast"]) == (
        "10.79.3.1",
        "255.255.255.255",
        None,
    )
    assert ifaces["lo"]["broadcast"] == "127.255.255.255"

    assert out["default"][0] == "pwv0"
    devices = out["devices"]
    assert devices["pwv0"] == "pwv0"
    assert devices["pwtun0"] == "pwtun0"  # usable for brokers; broadcast_address refuses it
    assert devices["pwv1"].startswith("error: network device 'pwv1' has no IPv4 address")
    assert devices["pwd0"].startswith("error: network device 'pwd0' is down")
    assert "pwv0 (10.79.0.1)" in devices["nope0"]
    assert out["ips"] == {"10.79.0.1": "pwv0"}


@pytest.mark.netns
@linux_only
def test_namespace_with_loopback_only() -> None:
    require_root()
    down = probe(["unshare", "--net"], "lo")
    assert down["default"][0] is None
    assert "ip link set lo up" in down["default"][1]
    assert down["devices"]["lo"].startswith("error: network device 'lo' is down")

    up = probe(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"'], "lo")
    assert up["default"][0] == "lo"
    assert "loopback" in up["default"][1]
    assert up["devices"]["lo"] == "lo"
