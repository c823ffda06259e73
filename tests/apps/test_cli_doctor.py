"""``patchwire doctor`` run as a subprocess (``python -m patchwire doctor``).

doctor is read-only: it binds the beacon port to check it but never sends a datagram.
The ``netns`` tests run it inside private namespaces to see the degraded cases.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from patchwire._version import __version__

SRC = Path(__file__).resolve().parents[2] / "src"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux devices")


def doctor(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "patchwire", "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def doctor_json(*args: str, prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    done = doctor("--json", *args, prefix=prefix)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_json_report() -> None:
    report = doctor_json()
    assert set(report) == {
        "software",
        "interfaces",
        "discovery",
        "beacon_port",
        "environment",
        "hints",
    }
    software = report["software"]
    assert software["pyzmq"] == zmq.pyzmq_version()
    assert software["libzmq"] == zmq.zmq_version()
    assert software["curve"] is bool(zmq.has("curve"))
    assert software["patchwire"] == __version__
    assert software["python"] == platform.python_version()
    assert software["platform"] == platform.platform()
    assert software["event_loop_policy"]

    port = report["beacon_port"]
    assert port["port"] == 5670
    assert port["bind_options"][0] == "SO_REUSEADDR"
    assert isinstance(port["in_use"], bool | None)
    assert port["bindable"] is True, port["bind_error"]
    assert port["so_broadcast"] is True

    hints = report["hints"]
    assert all(isinstance(hint, str) for hint in hints)
    assert any("Firewall" in hint and "UDP port 5670" in hint for hint in hints)

    discovery = report["discovery"]
    assert discovery["source"] == "default"
    names = [i["name"] for i in report["interfaces"]]
    if discovery["error"] is None:
        assert discovery["device"] in names
        assert discovery["reason"]
    else:
        assert discovery["device"] is None


@linux_only
def test_json_interfaces_include_loopback() -> None:
    report = doctor_json()
    lo = next(i for i in report["interfaces"] if i["name"] == "lo")
    assert lo["loopback"] is True
    assert lo["address"] == "127.0.0.1"
    assert lo["broadcast"] == "127.255.255.255"
    assert set(lo) >= {"index", "netmask", "up", "can_broadcast", "point_to_point", "flags"}


@linux_only
def test_device_lo() -> None:
    report = doctor_json("--device", "lo", "--port", "25671")
    discovery = report["discovery"]
    assert discovery == {
        "source": "--device",
        "device": "lo",
        "address": "127.0.0.1",
        "broadcast": "127.255.255.255",
        "reason": "named by --device",
        "error": None,
    }
    assert report["beacon_port"]["port"] == 25671
    assert any("refuse lo" in hint for hint in report["hints"])


@linux_only
def test_unknown_device_exits_2_and_lists_devices() -> None:
    done = doctor("--device", "nope0")
    assert done.returncode == 2
    assert "'nope0'" in done.stderr
    assert "lo (127.0.0.1)" in done.stderr
    assert done.stderr.startswith("patchwire doctor: error: ")
    report = doctor("--json", "--device", "nope0")
    assert report.returncode == 2
    assert "nope0" in json.loads(report.stdout)["discovery"]["error"]


@pytest.mark.parametrize("port", ["0", "65536", "abc"])
def test_bad_port_is_a_usage_error(port: str) -> None:
    done = doctor("--port", port)
    assert done.returncode == 2
    assert "--port" in done.stderr


def test_human_output_names_the_chosen_interface() -> None:
    report = doctor_json()
    done = doctor()
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for heading in ("Software", "Interfaces", "Discovery (default)", "Beacon port 5670/udp"):
        assert heading in text
    assert f"pyzmq              {zmq.pyzmq_version()}" in text
    chosen = report["discovery"]["device"]
    if chosen is not None:
        line = next(line for line in text.splitlines() if line.startswith("  interface "))
        assert chosen in line
        assert report["discovery"]["address"] in line


# -- inside private namespaces -------------------------------------------------------------------


def require_root() -> None:
    missing = [tool for tool in ("ip", "unshare") if shutil.which(tool) is None]
    if os.geteuid() == 0 and not missing:
        return
    why = f"needs root and {', '.join(missing)}" if missing else "needs root"
    if os.environ.get("CI"):
        pytest.fail(f"netns test {why}, and CI is set")
    pytest.skip(f"netns test {why}")


LISTEN = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"
    "s.bind(('0.0.0.0', 5670))\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def named_ns() -> Iterator[str]:
    """``pw-<pid>-doctor``: lo up and one veth end with 10.79.5.1/24."""
    require_root()
    ns = f"pw-{os.getpid()}-doctor"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=30)
    try:
        for command in (
            "link set lo up",
            "link add pwd0 type veth peer name pwd1",
            "addr add 10.79.5.1/24 dev pwd0",
            "link set pwd0 up",
            "link set pwd1 up",
        ):
            subprocess.run(
                ["ip", "-n", ns, *command.split()], check=True, capture_output=True, timeout=30
            )
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True, timeout=30)


@pytest.mark.netns
@linux_only
def test_in_named_namespace_sees_other_users_of_the_port(named_ns: str) -> None:
    prefix = ("ip", "netns", "exec", named_ns)
    with subprocess.Popen(
        [*prefix, sys.executable, "-c", LISTEN],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as listener:
        try:
            assert listener.stdout is not None
            assert listener.stdout.readline().strip() == "ready"
            report = doctor_json(prefix=prefix)
        finally:
            assert listener.stdin is not None
            listener.stdin.close()
            listener.wait(timeout=10)
    assert {i["name"] for i in report["interfaces"]} == {"lo", "pwd0", "pwd1"}
    discovery = report["discovery"]
    assert (discovery["device"], discovery["broadcast"]) == ("pwd0", "10.79.5.255")
    port = report["beacon_port"]
    assert port["bindable"] is True
    assert port["in_use"] is True
    assert port["users"] == [
        {
            "local": "0.0.0.0:5670",
            "uid": 0,
            "pid": listener.pid,
            "command": Path(sys.executable).name[:15],
        }
    ]
    assert report["environment"]["network_namespace_name"] == named_ns
    assert any("already used" in hint for hint in report["hints"])
    assert any(named_ns in hint for hint in report["hints"])


@pytest.mark.netns
@linux_only
def test_in_empty_namespace_reports_without_failing() -> None:
    require_root()
    report = doctor_json(prefix=("unshare", "--net"))
    assert [(i["name"], i["up"]) for i in report["interfaces"]] == [("lo", False)]
    assert report["discovery"]["device"] is None
    assert "ip link set lo up" in report["discovery"]["error"]
    assert report["beacon_port"]["in_use"] is False
    hints = " ".join(report["hints"])
    assert "--broker tcp://HOST:PORT" in hints
    assert "Only loopback exists" in hints

    done = doctor("--device", "lo", prefix=("unshare", "--net"))
    assert done.returncode == 2
    assert "'lo' is down" in done.stderr
    assert "ip link set lo up" in done.stderr
