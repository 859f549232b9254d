"""Runs a detector that lives in a scratch venv through its runner script (JSON in and out).

    res = run_runner("/tmp/otava-venv/bin/python", "otava_runner.py", series, ci_min_t=None)

The runner reads {"series": [[...], ...], "ci_min_t": int | null} and prints {"batch": [[index,
...], ...], "batch_seconds": s, "ci": [[[t, [index, ...]], ...], ...], "ci_seconds": s,
"version": v}; see `otava_runner.py` and `edivisive_runner.py`.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["RUNNER_ERRORS", "run_runner"]

HERE = Path(__file__).resolve().parent
RUNNER_ERRORS = (OSError, subprocess.SubprocessError, ValueError, KeyError)


def run_runner(
    python: str, runner: str, series: Sequence[Sequence[float]], ci_min_t: int | None
) -> dict[str, Any]:
    """The runner's JSON answer; raises one of RUNNER_ERRORS when it cannot run."""
    job = {"series": [list(s) for s in series], "ci_min_t": ci_min_t}
    proc = subprocess.run(
        [python, str(HERE / runner)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    res: dict[str, Any] = json.loads(proc.stdout)
    res["batch"] = [[int(i) for i in idx] for idx in res["batch"]]
    return res
