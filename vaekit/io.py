"""Atomic writes: a file is either its old self or completely new, never half-written.

Each writer writes a temporary file in the destination's folder (same file system), flushes it to disk and
then renames it over the destination with ``os.replace``, which is atomic. If writing fails (an exception, a
full disk, Ctrl-C), the temporary file is removed and the old file is left as it was.
"""

from __future__ import annotations

import json
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator

import numpy as np


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing; on a clean exit it replaces ``path``.

    Args:
        path: the destination; its folder is created if needed.
        mode: ``"wb"`` (bytes) or ``"w"`` (text, UTF-8).

    Yields:
        The open temporary file. If the ``with`` block raises, the temporary file is deleted and ``path``
        is untouched.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    # O_EXCL: never reuse a file; 0o666 lets the umask set the permissions, as for an ordinary new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Atomically write ``data`` to ``path``; return ``path``."""
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``; return ``path``."""
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def save_json(path: str | Path, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON. The object is encoded first, so a value JSON cannot
    encode (a NaN is written as ``NaN``; a set raises TypeError) fails before anything is written."""
    text = json.dumps(obj, indent=2, sort_keys=False) + "\n"
    return write_text(path, text)


def load_json(path: str | Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def save_npz(path: str | Path, **arrays: np.ndarray) -> Path:
    """Atomically write ``arrays`` to an uncompressed ``.npz`` file at exactly ``path`` (no suffix added)."""
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)
    return Path(path)


def torch_save(obj: Any, path: str | Path) -> Path:
    """Atomically ``torch.save(obj, path)`` (argument order as in ``torch.save``)."""
    import torch

    with atomic_open(path, "wb") as f:
        torch.save(obj, f)
    return Path(path)
