"""Recorded results claim the model's current defaults: a changed default makes them stale, and this test says so.

Every ``results.json`` under docs/assets/results/ records the settings it was made with. Where it records the
architecture or optimiser (hidden widths, D_z, batch size, learning rate), those must be the defaults of the one
config object (``TrainConfig``, read through ``vaekit.experiments.common.model_defaults``); otherwise the figures
and the numbers quoted on the site describe a model the kit no longer trains, and must be regenerated
(``scripts/make_results.py``, ``vaekit experiment ...``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vaekit.experiments.common import model_defaults

ROOT = Path(__file__).resolve().parents[1]
RESULTS = sorted((ROOT / "docs" / "assets" / "results").rglob("results.json"))


def test_there_are_recorded_results():
    assert len(RESULTS) >= 5


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.parent.relative_to(ROOT / "docs" / "assets").as_posix())
def test_recorded_settings_are_the_current_defaults(path):
    settings = json.loads(path.read_text())["settings"]
    assert not settings.get("quick"), f"{path} was made at the quick size: regenerate it at the default size"
    defaults = model_defaults()
    shared = [k for k in defaults if k in settings]
    assert shared, f"{path} records none of {sorted(defaults)}"
    stale = {
        k: (settings[k], defaults[k]) for k in shared
        if (list(settings[k]) if isinstance(settings[k], (list, tuple)) else settings[k])
        != (list(defaults[k]) if isinstance(defaults[k], (list, tuple)) else defaults[k])}
    assert not stale, f"{path.relative_to(ROOT)} was made with {stale} (recorded, current default): regenerate it"
