"""``tests/interop/igs_peer.py`` with CURVE security on: a real Ingescape agent for capture.py.

Same command line, output and commands as ``igs_peer.py``, plus two options that are
passed to ``igs.enable_security(PRIVATE_CERT, PUBLIC_DIR)`` before the agent starts::

    python secure_agent.py --cert DIR/agent.cert_secret --public-dir DIR/public \
        --name a --device pwv1 --port 5671

The ``ready`` line also carries ``security_rc`` (the ``enable_security`` result).
Run it in its own process, inside a private network namespace for beacon mode.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))

import igs_peer
import ingescape as igs


def main(argv: list[str] | None = None) -> int:
    """Parse our two options, enable security, then behave like ``igs_peer.main``."""
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--cert", required=True, help="czmq certificate with the secret key")
    own.add_argument("--public-dir", required=True, help="folder of allowed public certs")
    extra, rest = own.parse_known_args(argv)
    args = igs_peer.parse_args(rest)
    deadline = time.monotonic() + args.max_seconds
    watchdog = threading.Thread(
        target=igs_peer._watchdog, args=(args.max_seconds + 15.0,), daemon=True
    )
    watchdog.start()
    out = igs_peer.Output()  # from here on, C-level output goes to stderr
    security_rc = int(igs.enable_security(extra.cert, extra.public_dir))
    if security_rc != igs.SUCCESS:
        out.emit("error", rc=security_rc, error="enable_security failed", pid=os.getpid())
        return igs_peer.EXIT_START_FAILED
    peer = igs_peer.Peer(args, out)
    peer.configure()
    rc = peer.start()
    if rc != igs.SUCCESS:
        out.emit("error", rc=rc, error="start failed", pid=os.getpid())
        return igs_peer.EXIT_START_FAILED
    out.emit(
        "ready",
        pid=os.getpid(),
        agent_uuid=igs.agent_uuid(),
        name=args.name,
        security_rc=security_rc,
    )
    code = peer.serve(deadline)
    peer.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
