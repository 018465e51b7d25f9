"""Probes of the PyTorch track (see :mod:`.probes`)."""

from __future__ import annotations

from .probes import fail, probe  # noqa: F401
