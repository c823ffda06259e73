"""The examples the README tells people to run, run as subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_and_everyone_agrees() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in ("ada", "bob", "cy", "ingescape_agent"):
        assert f"hub sees {name}" in out
    assert "hub heard ada on CHAT: 'hello everyone'" in out
    assert "hub heard ingescape_agent on CHAT: 'hello from a real Ingescape agent'" in out
    assert "every patchwire node agrees on the leader:" in out
    assert out.rstrip().endswith("all stopped")
