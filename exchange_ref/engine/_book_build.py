"""Compile the order book with mypyc: `python -m exchange_ref.engine._book_build`.

Copies `_book_core.py`, with the SHA-256 of its source appended as `SOURCE_SHA256`, to a scratch
tree as `exchange_ref/engine/_book_native.py`, compiles it there with mypyc (from the mypy
package of requirements.lock, and gcc), and moves the resulting extension modules next to this
file. `exchange_ref.engine.book` then exports the compiled classes for as long as the recorded
digest matches the source. Nothing is written into the checkout but the `.so` files, which git
ignores. Exit status 1 when the compilation fails; the pure-Python book keeps working.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["build", "main"]

_HERE = Path(__file__).resolve().parent
_SOURCE = _HERE / "_book_core.py"
_NATIVE = "_book_native"


def build() -> list[Path]:
    """Compile the book; return the extension files installed next to the source."""
    text = _SOURCE.read_bytes()
    digest = hashlib.sha256(text).hexdigest()
    with tempfile.TemporaryDirectory(prefix="pincex-book-") as scratch:
        root = Path(scratch)
        package = root / "exchange_ref" / "engine"
        package.mkdir(parents=True)
        (root / "exchange_ref" / "__init__.py").write_bytes(b"")
        (package / "__init__.py").write_bytes(b"")
        (package / f"{_NATIVE}.py").write_bytes(
            text + f'\n\nSOURCE_SHA256: Final = "{digest}"\n'.encode()
        )
        env = dict(os.environ, MYPYC_OPT_LEVEL="3")
        proc = subprocess.run(
            [sys.executable, "-m", "mypyc", f"exchange_ref/engine/{_NATIVE}.py"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"mypyc failed:\n{proc.stdout}{proc.stderr}")
        built = sorted(package.glob(f"{_NATIVE}*.so"))
        if not built:
            raise RuntimeError(f"mypyc produced no extension module:\n{proc.stdout}")
        for stale in _HERE.glob(f"{_NATIVE}*.so"):
            stale.unlink()
        installed = []
        for path in built:
            target = _HERE / path.name
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(path, partial)
            partial.replace(target)
            installed.append(target)
    return installed


def main() -> int:
    try:
        installed = build()
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"book build: {exc}", file=sys.stderr)
        return 1
    for path in installed:
        print(f"book build: installed {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
