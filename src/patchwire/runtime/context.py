"""The ZeroMQ context patchwire's sockets live in, sized for many peers.

Layer: runtime. Each peer costs a DEALER (and its TCP connection), so a process hosting many
nodes needs more than libzmq's default 1,023 sockets and the usual 1,024 file descriptors.
The socket cap must be set before the context creates its first socket, hence our own context
rather than ``zmq.Context.instance()``. The descriptor soft limit is raised to the hard limit,
as Ingescape's ``igs_net_raise_sockets_limit`` does.
"""

from __future__ import annotations

import logging
import threading

import zmq

__all__ = ["shared_context"]

logger = logging.getLogger("patchwire.runtime")

_MAX_SOCKETS_CAP = 65_536
_lock = threading.Lock()
_context: zmq.Context[zmq.Socket[bytes]] | None = None


def _raise_descriptor_limit() -> int:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else _MAX_SOCKETS_CAP
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as error:
            logger.info("cannot raise the file descriptor limit above %d: %s", soft, error)
    return int(soft) if soft != resource.RLIM_INFINITY else _MAX_SOCKETS_CAP


def shared_context() -> zmq.Context[zmq.Socket[bytes]]:
    """The process-wide context for patchwire sockets (created on first use)."""
    global _context
    with _lock:
        if _context is None or _context.closed:
            limit = _raise_descriptor_limit()
            context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
            context.set(zmq.MAX_SOCKETS, max(1024, min(limit, _MAX_SOCKETS_CAP)))
            _context = context
        return _context
