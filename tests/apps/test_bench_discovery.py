"""``bench/discovery.py --quick`` run as a subprocess: it finishes, and its results make sense.

It starts real Ingescape agents and builds private network namespaces, so it needs root and
``import ingescape``; without them the test is skipped, or fails when ``CI`` is set.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # plain `pytest` (not `python -m pytest`) does not add the cwd
    sys.path.insert(0, str(ROOT))

from tests.support.igs import ingescape_available  # noqa: E402
from tests.support.netns import list_namespaces, netns_available  # noqa: E402

SCRIPT = ROOT / "bench" / "discovery.py"
CASES = (
    "pw_pw_broker",
    "pw_pw_broker_launch",
    "pw_pw_beacon",
    "pw_igs_broker",
    "igs_pw_broker",
    "igs_pw_broker_launch",
    "pw_igs_beacon",
    "pw_igs_beacon_launch",
    "igs_igs_broker",
    "igs_igs_broker_launch",
    "igs_igs_beacon",
    "igs_igs_beacon_launch",
)
QUICK_REPEAT = 2
RUN_TIMEOUT = 120.0  # --quick takes well under 40 s
GRACE = 30.0  # after SIGTERM, for the bench to stop its helpers and delete its namespaces
SANE_MAX_MS = 15_000.0  # above the bench's own 10 s discovery deadline


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"prerequisite missing on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def prerequisites() -> None:
    if not ingescape_available():
        _unavailable(f"the ingescape package is not importable by {sys.executable}")
    ok, reason = netns_available()
    if not ok:
        _unavailable(reason)


def _run_bench(out: Path) -> tuple[int, str, str, int]:
    """Run the quick bench; on timeout SIGTERM it (it cleans up), then SIGKILL its group."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        try:
            stdout, stderr = proc.communicate(timeout=GRACE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate(timeout=10)
        pytest.fail(f"bench/discovery.py --quick ran longer than {RUN_TIMEOUT} s:\n{stderr}")
    return proc.returncode, stdout, stderr, proc.pid


@pytest.mark.interop
@pytest.mark.netns
@pytest.mark.timeout(RUN_TIMEOUT + GRACE + 30)
def test_quick_discovery_bench(prerequisites: None, tmp_path: Path) -> None:
    rc, stdout, stderr, pid = _run_bench(tmp_path)
    leftovers = {ns for ns in list_namespaces() if ns.startswith(f"pw{pid}n")}
    assert not leftovers, f"the bench left namespaces behind: {leftovers}"
    assert rc == 0, f"exit {rc}\nstdout:\n{stdout}\nstderr:\n{stderr}"

    report = json.loads((tmp_path / "discovery.json").read_text(encoding="utf-8"))
    assert {"python", "platform", "cpu_count"} <= set(report["machine"])
    assert report["date"]
    assert set(report["cases"]) == set(CASES)
    for name in CASES:
        row = report["cases"][name]
        assert row["unit"] == "ms", name
        assert row["n"] == QUICK_REPEAT, name
        values = [row["min"], row["median"], row["max"]]
        assert all(isinstance(v, int | float) and math.isfinite(v) for v in values), (name, row)
        assert 0 < row["min"] <= row["median"] <= row["max"] < SANE_MAX_MS, (name, row)

    table = (tmp_path / "discovery.md").read_text(encoding="utf-8")
    assert "| case | median ms | min | max | n | what is measured |" in table
    assert table in stdout
    for name in CASES:
        assert f"| {name} |" in table
