"""Where the product keeps its files, resolved once for every command and page.

A relative default (`data/pincex.duckdb`) silently meant "an empty store" when a command ran
from another folder; these resolve to the same absolute place whatever the working directory:

- the run store: `PINCEX_STORE_PATH`, else `<data dir>/pincex.duckdb`;
- the data directory: `PINCEX_DATA_DIR`, else the checkout's `data/` (the project this code
  runs from, found by its `pyproject.toml`), else `$XDG_DATA_HOME/pincex` (`~/.local/share`);
- the configuration: `PINCEX_CONFIG_DIR`, else the checkout's `config/`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "STORE_DEFAULT_HELP",
    "config_dir",
    "config_file",
    "data_dir",
    "default_store_path",
    "missing_output_folder",
    "project_root",
]

_PROJECT_NAME = 'name = "pincex-perf-lab"'

STORE_DEFAULT_HELP = (
    "default: $PINCEX_STORE_PATH, else $PINCEX_DATA_DIR/pincex.duckdb, else the checkout's "
    "data/pincex.duckdb, else $XDG_DATA_HOME/pincex/pincex.duckdb; the same from any folder"
)
"""How the run store is found when no `--store` is given, for the commands' help texts."""


def project_root() -> Path | None:
    """The checkout this code runs from, or None when installed on its own."""
    root = Path(__file__).resolve().parents[1]
    try:
        if _PROJECT_NAME in (root / "pyproject.toml").read_text(encoding="utf-8"):
            return root
    except OSError:
        pass
    return None


def data_dir() -> Path:
    """The directory the run store and its spool live in by default."""
    given = os.environ.get("PINCEX_DATA_DIR")
    if given:
        return Path(given).expanduser().resolve()
    root = project_root()
    if root is not None:
        return root / "data"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser().resolve() / "pincex"


def default_store_path() -> Path:
    """The run store every command reads and writes unless given `--store`."""
    given = os.environ.get("PINCEX_STORE_PATH")
    if given:
        return Path(given).expanduser().resolve()
    return data_dir() / "pincex.duckdb"


def config_dir() -> Path:
    """The directory holding `slo.yaml`, `capacity.yaml` and the other configs."""
    given = os.environ.get("PINCEX_CONFIG_DIR")
    if given:
        return Path(given).expanduser().resolve()
    root = project_root()
    return (root if root is not None else Path.cwd()) / "config"


def config_file(name: str) -> Path:
    """One config file by name (`slo.yaml`), in `config_dir()`."""
    return config_dir() / name


def missing_output_folder(output: Path) -> str | None:
    """Why `output` cannot be written without creating folders (one line), or None. Commands
    write only into folders that exist: a mistyped path is an error, not a new tree."""
    if output.is_dir():
        return f"{output} is a directory"
    folder = output.parent
    if not folder.exists():
        return f"the folder {folder} does not exist (create it first)"
    if not folder.is_dir():
        return f"{folder} is not a directory"
    return None
