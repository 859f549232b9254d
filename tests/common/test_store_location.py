"""The run store is found the same way from any working folder, by every command and the
dashboard (common.paths, read through collectors.settings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from collectors.settings import get_settings, resolve_store_path
from common.paths import project_root

ROOT = Path(__file__).resolve().parents[2]
_PROBE = "from collectors.settings import resolve_store_path; print(resolve_store_path())"


def _resolved_in(cwd: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PINCEX_")}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_default_is_the_checkouts_data_folder_from_any_folder(tmp_path: Path) -> None:
    assert project_root() == ROOT
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    expected = str(ROOT / "data" / "pincex.duckdb")
    assert _resolved_in(ROOT) == expected
    assert _resolved_in(elsewhere) == expected


def test_the_environment_chooses_and_is_made_absolute(tmp_path: Path) -> None:
    assert _resolved_in(tmp_path, PINCEX_DATA_DIR="d") == str(tmp_path / "d" / "pincex.duckdb")
    assert _resolved_in(tmp_path, PINCEX_STORE_PATH="s/x.duckdb") == str(tmp_path / "s/x.duckdb")
    both = {"PINCEX_DATA_DIR": "d", "PINCEX_STORE_PATH": "/abs/x.duckdb"}
    assert _resolved_in(tmp_path, **both) == "/abs/x.duckdb"


def test_a_given_store_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_store_path("runs.duckdb") == tmp_path / "runs.duckdb"
    assert resolve_store_path(None) == Path(get_settings().store_path)
    assert resolve_store_path(None).is_absolute()


def test_the_dashboard_reads_the_same_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.ui import store_view

    monkeypatch.delenv("PINCEX_STORE_PATH")
    monkeypatch.setenv("PINCEX_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    assert store_view().path == str(resolve_store_path()) == str(tmp_path / "pincex.duckdb")
