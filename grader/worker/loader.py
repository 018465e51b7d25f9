"""Import the graded track: ``<submission>/<track>/<module>.py`` as ``submission.<track>.<module>``.

The track's modules import each other relatively (``from .kl import kl_to_standard_normal``), so the folder is
made a package. The submission's folder is never put on ``sys.path``: a file named ``numpy.py`` in it cannot
stand in for NumPy.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

PACKAGE = "submission"


class ImportProblem(Exception):
    """A module of the graded code that is missing or cannot be imported; the text is for the student."""


class Track:
    """Attribute access to the track's modules: ``track.kl.kl_to_standard_normal``."""

    def __init__(self, root: str | Path, name: str):
        self.root, self.name = Path(root), name
        if PACKAGE not in sys.modules:
            package = types.ModuleType(PACKAGE)
            package.__path__ = [str(self.root)]
            sys.modules[PACKAGE] = package

    def module(self, module: str) -> types.ModuleType:
        if not module.isidentifier() or module.startswith("_"):
            raise ImportProblem(f"{module!r} is not a module name of the exercises")
        file = self.root / self.name / f"{module}.py"
        if not file.is_file():
            raise ImportProblem(f"{self.name}/{module}.py is missing: copy it from the handout's exercises/"
                                f"{self.name}/{module}.py and fill it in")
        try:
            return importlib.import_module(f"{PACKAGE}.{self.name}.{module}")
        except SyntaxError as err:
            raise ImportProblem(f"{self.name}/{module}.py does not compile: {err.msg} (line {err.lineno})") from None
        except ImportProblem:
            raise
        except Exception as err:
            raise ImportProblem(f"importing {self.name}/{module}.py failed: {type(err).__name__}: "
                                f"{str(err)[:500]}") from err

    def __getattr__(self, module: str) -> types.ModuleType:
        if module.startswith("_"):
            raise AttributeError(module)
        return self.module(module)

    def function(self, dotted: str):
        """``"kl.kl_to_standard_normal"`` -> that function of the graded code."""
        module, _, attr = dotted.partition(".")
        mod = self.module(module)
        value = mod
        for part in attr.split("."):
            if not hasattr(value, part):
                raise ImportProblem(f"{self.name}/{module}.py has no {attr!r}; keep the names of the stub")
            value = getattr(value, part)
        return value
