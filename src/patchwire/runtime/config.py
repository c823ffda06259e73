"""Network: where and how a node joins a platform. Validated at construction.

Layer: runtime (re-exported publicly as ``patchwire.Network``).
"""

from __future__ import annotations

from dataclasses import dataclass

from patchwire.errors import ConfigurationError

__all__ = ["DEFAULT_PORT", "Network"]

DEFAULT_PORT = 5670
"""Zyre's and every Ingescape example's discovery port."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    """How to join a platform: by UDP beacons on a device, or through gossip brokers.

    Beacon mode: ``Network(device="eth0", port=5670)`` (or ``ip=`` instead of ``device``).
    Broker mode: ``Network(brokers=("tcp://10.0.0.5:5661",), endpoint="tcp://10.0.0.7:5670")``;
    without ``endpoint`` the inbox binds an ephemeral port on the address that reaches the
    first broker. ``broker_bind`` makes this node a broker for others (and implies broker mode).
    """

    device: str | None = None
    ip: str | None = None
    port: int = DEFAULT_PORT
    brokers: tuple[str, ...] = ()
    endpoint: str | None = None
    broker_bind: str | None = None
    advertised_endpoint: str | None = None
    beacon_interval: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.brokers, str):  # type: ignore[unreachable]  # a common slip
            raise ConfigurationError("brokers is a tuple of endpoints, e.g. ('tcp://host:5661',)")
        object.__setattr__(self, "brokers", tuple(self.brokers))
        if not 0 < self.port <= 0xFFFF:
            raise ConfigurationError(f"port must be 1..65535, got {self.port}")
        if self.beacon_interval <= 0:
            raise ConfigurationError("beacon_interval must be positive (seconds)")
        if self.device is not None and self.ip is not None:
            raise ConfigurationError("give a device or an ip for beacons, not both")
        for endpoint in (*self.brokers, self.endpoint, self.broker_bind, self.advertised_endpoint):
            if endpoint is not None:
                check_tcp_endpoint(endpoint)
        if self.broker_mode and (self.device is not None or self.ip is not None):
            raise ConfigurationError(
                "choose beacons (device/ip + port) or brokers (brokers/endpoint), not both"
            )
        if self.endpoint is not None and not self.broker_mode:
            raise ConfigurationError(
                "endpoint is for broker mode: add brokers=(...) or broker_bind=..., "
                "or drop endpoint to discover by beacons"
            )

    @property
    def broker_mode(self) -> bool:
        """True when discovery goes through brokers (no UDP at all)."""
        return bool(self.brokers) or self.broker_bind is not None


def check_tcp_endpoint(endpoint: str) -> tuple[str, int | None]:
    """Split ``tcp://HOST:PORT`` (``PORT`` may be ``*`` or ``0``); raise a clear error otherwise."""
    if not endpoint.startswith("tcp://"):
        raise ConfigurationError(f"endpoint {endpoint!r} must look like tcp://HOST:PORT")
    host, sep, port_text = endpoint[6:].rpartition(":")
    if not sep or not host:
        raise ConfigurationError(f"endpoint {endpoint!r} must look like tcp://HOST:PORT")
    if port_text in ("*", "0"):
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) <= 0xFFFF:
        raise ConfigurationError(f"endpoint {endpoint!r} has an invalid port {port_text!r}")
    return host, int(port_text)
