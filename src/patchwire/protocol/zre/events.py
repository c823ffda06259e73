"""Peer-level events, what Ingescape calls channel events.

Layer: protocol (pure). Frozen, slotted, keyword-only records; ``peer`` is the remote node's UUID
as 32 upper-case hex digits (the form Zyre and Ingescape print), ``name`` its HELLO name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ElectionLost",
    "ElectionWon",
    "PeerEntered",
    "PeerEvasive",
    "PeerEvent",
    "PeerExited",
    "PeerJoined",
    "PeerLeft",
    "PeerSilent",
    "ShoutReceived",
    "WhisperReceived",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerEntered:
    """A peer completed its HELLO: it is ready."""

    peer: str
    name: str
    endpoint: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerExited:
    """A peer is gone. ``reason``: ``left`` (port-0 beacon), ``goodbye``, ``expired``,
    ``sequence`` (messages lost), ``restarted`` (a fresh HELLO from a ready peer) or ``stopped``."""

    peer: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerJoined:
    peer: str
    name: str
    group: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerLeft:
    peer: str
    name: str
    group: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WhisperReceived:
    peer: str
    name: str
    content: tuple[bytes, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ShoutReceived:
    peer: str
    name: str
    group: str
    content: tuple[bytes, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerEvasive:
    """A peer has been silent longer than the evasive timeout; it is being PINGed."""

    peer: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerSilent:
    """A peer stayed silent one reap interval after becoming evasive."""

    peer: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ElectionWon:
    """This node won the election held in ``group`` (``"\\o/ <name>"``)."""

    group: str

    @property
    def election(self) -> str:
        return self.group.removeprefix("\\o/ ")


@dataclass(frozen=True, slots=True, kw_only=True)
class ElectionLost:
    """Another node (``leader``, 32-hex UUID) won the election held in ``group``."""

    group: str
    leader: str

    @property
    def election(self) -> str:
        return self.group.removeprefix("\\o/ ")


PeerEvent = (
    PeerEntered
    | PeerExited
    | PeerJoined
    | PeerLeft
    | WhisperReceived
    | ShoutReceived
    | PeerEvasive
    | PeerSilent
    | ElectionWon
    | ElectionLost
)
