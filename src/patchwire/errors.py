"""Every exception patchwire raises on purpose.

Layer: base. This module imports nothing from patchwire, so every layer may use it.

::

    PatchwireError(Exception)
    ├── UsageError                                  the calling code is wrong
    │   ├── DefinitionError(UsageError, ValueError)
    │   ├── MappingError(UsageError, ValueError)
    │   ├── ValueTypeError(UsageError, TypeError)
    │   ├── UnknownNameError(UsageError, LookupError)
    │   ├── ConfigurationError(UsageError, ValueError)  bad Network settings, no such device
    │   ├── StateError(UsageError, RuntimeError)        not valid in this lifecycle state
    │   │   └── ClosedError                             *you* stopped it
    │   └── WrongThreadError(UsageError, RuntimeError)
    ├── NetworkError(PatchwireError, OSError)       local I/O failed: bind, port in use
    ├── ProtocolError(PatchwireError)               abstract
    │   ├── LocalProtocolError                      we were about to break the protocol
    │   └── RemoteProtocolError                     a peer sent something malformed
    │       └── DecodeError                         bytes that could not be decoded
    └── TimeoutError(PatchwireError, builtins.TimeoutError)

Each class has a stable ``code`` string, so logs and docs can index them.
"""

from __future__ import annotations

import builtins

__all__ = [
    "ClosedError",
    "ConfigurationError",
    "DecodeError",
    "DefinitionError",
    "LocalProtocolError",
    "MappingError",
    "NetworkError",
    "PatchwireError",
    "ProtocolError",
    "RemoteProtocolError",
    "StateError",
    "TimeoutError",
    "UnknownNameError",
    "UsageError",
    "ValueTypeError",
    "WrongThreadError",
]


class PatchwireError(Exception):
    """Root of every exception patchwire raises on purpose."""

    code = "patchwire"


class UsageError(PatchwireError):
    """The calling code is wrong; never caused by the network."""

    code = "usage"


class DefinitionError(UsageError, ValueError):
    """A bad IOP, service or argument declaration."""

    code = "definition"


class MappingError(UsageError, ValueError):
    """A bad mapping or split entry."""

    code = "mapping"


class ValueTypeError(UsageError, TypeError):
    """A value that cannot be converted to the expected type."""

    code = "value-type"


class UnknownNameError(UsageError, LookupError):
    """No such input, output, attribute, service, agent or peer."""

    code = "unknown-name"


class ConfigurationError(UsageError, ValueError):
    """Bad network settings: no such device, an invalid endpoint, conflicting options."""

    code = "configuration"


class StateError(UsageError, RuntimeError):
    """Not valid in the current lifecycle state (start twice, send before start, ...)."""

    code = "state"


class ClosedError(StateError):
    """The object was stopped by its owner and cannot be used any more."""

    code = "closed"


class WrongThreadError(UsageError, RuntimeError):
    """A loop-owned object was used from another thread."""

    code = "wrong-thread"


class NetworkError(PatchwireError, OSError):
    """Local I/O failed: a bind, a port in use, an unreachable broker. The cause is chained."""

    code = "network"


class ProtocolError(PatchwireError):
    """Abstract base of protocol violations; never raised directly."""

    code = "protocol"


class LocalProtocolError(ProtocolError):
    """We were about to emit something the protocol forbids (a bug or a misuse)."""

    code = "local-protocol"


class RemoteProtocolError(ProtocolError):
    """A peer sent something malformed or out of sequence."""

    code = "remote-protocol"

    def __init__(self, message: str, *, peer: str | None = None) -> None:
        super().__init__(message)
        self.peer = peer


class DecodeError(RemoteProtocolError):
    """Bytes from the network could not be decoded.

    ``data`` keeps a bounded preview (64 bytes) of what was received.
    """

    code = "decode"

    def __init__(self, message: str, *, data: bytes = b"", peer: str | None = None) -> None:
        super().__init__(message, peer=peer)
        self.data = bytes(data[:64])


class TimeoutError(PatchwireError, builtins.TimeoutError):
    """A ``wait_*()`` call or a blocking facade call exceeded its deadline."""

    code = "timeout"
