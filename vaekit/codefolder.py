"""Load a track (``numpy_ag`` or ``pytorch``) from an exercises-like folder: ``exercises/``, ``solutions/``
or a student's submission, whatever its name or location.

The folder is imported as a fresh package named ``vaekit_code_<n>`` so that two folders (a submission and
the solutions, say) can be loaded side by side, and the track's modules import each other relatively.
"""

from __future__ import annotations

import importlib
import itertools
import sys
import types
from pathlib import Path

from .paths import EXERCISES_DIR, SOLUTIONS, TRACKS

_counter = itertools.count()
_loaded: dict[Path, str] = {}

NAMED_TARGETS = {"exercises": EXERCISES_DIR, "solutions": SOLUTIONS}


class SubmissionError(ImportError):
    """A folder or module of a submission that cannot be found or imported."""


def resolve_target(target: str | Path) -> Path:
    """``"exercises"`` or ``"solutions"`` name the kit's own folders; anything else is a path to a folder."""
    path = NAMED_TARGETS.get(str(target), Path(target)).expanduser().resolve()
    if not path.is_dir():
        raise SubmissionError(
            f"code folder {path} does not exist: pass 'exercises', 'solutions' or a folder laid out like "
            "exercises/ (with numpy_ag/ and pytorch/ inside)"
        )
    return path


def package_name(target: str | Path) -> str:
    """The package name under which ``target`` is imported (created on first use)."""
    path = resolve_target(target)
    if path not in _loaded:
        name = f"vaekit_code_{next(_counter)}"
        package = types.ModuleType(name)
        package.__path__ = [str(path)]
        package.__file__ = str(path / "__init__.py")
        sys.modules[name] = package
        _loaded[path] = name
    return _loaded[path]


def load_module(target: str | Path, track: str, module: str) -> types.ModuleType:
    """Import ``<target>/<track>/<module>.py``; a missing file or a syntax error becomes a SubmissionError."""
    if track not in TRACKS:
        raise SubmissionError(f"unknown track {track!r}; choose one of {', '.join(TRACKS)}")
    path = resolve_target(target)
    file = path / track / f"{module}.py"
    if not file.is_file():
        raise SubmissionError(f"{file} is missing: copy it from exercises/{track}/{module}.py and fill it in")
    try:
        return importlib.import_module(f"{package_name(path)}.{track}.{module}")
    except SyntaxError as err:
        raise SubmissionError(f"{file} does not compile: {err.msg} (line {err.lineno})") from err
    except Exception as err:  # an import-time error in student code
        raise SubmissionError(f"importing {file} failed: {type(err).__name__}: {err}") from err


class Track:
    """Attribute access to a track's modules: ``Track("solutions", "numpy_ag").kl.kl_to_standard_normal``."""

    def __init__(self, target: str | Path, track: str):
        self.target = resolve_target(target)
        self.track = track

    def __getattr__(self, module: str) -> types.ModuleType:
        if module.startswith("_"):
            raise AttributeError(module)
        return load_module(self.target, self.track, module)
