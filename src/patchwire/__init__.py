"""patchwire: agents that find each other and work together, wire-compatible with Ingescape 4.x."""

from patchwire._version import __version__
from patchwire.errors import *  # noqa: F403
from patchwire.errors import __all__ as _errors_all
from patchwire.protocol.zre.engine import ZreSettings
from patchwire.protocol.zre.events import *  # noqa: F403
from patchwire.protocol.zre.events import __all__ as _events_all
from patchwire.runtime.config import DEFAULT_PORT, Network
from patchwire.runtime.node import EventStream, Node, NodeStatistics, PeerInfo

__all__ = [
    "DEFAULT_PORT",
    "EventStream",
    "Network",
    "Node",
    "NodeStatistics",
    "PeerInfo",
    "ZreSettings",
    "__version__",
    *_errors_all,
    *_events_all,
]
