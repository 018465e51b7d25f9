"""Which exercises an assignment grades: ``"1.1,3.1"``, ``"numpy_ag"``, ``"pytorch,9.1"`` -> a pytest ``-m`` expression."""

from __future__ import annotations

from pathlib import Path

from ..registry import EXERCISES


def exercise_ids(spec: str | None) -> list[str]:
    """The exercise IDs named by ``spec`` (IDs and track names, comma-separated); all of them if empty."""
    if not spec:
        return list(EXERCISES)
    ids: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if part in ("numpy_ag", "pytorch"):
            ids += [i for i, ex in EXERCISES.items() if ex.track == part]
        elif part in EXERCISES:
            ids.append(part)
        else:
            raise ValueError(f"unknown exercise {part!r}: use IDs such as 1.1 or T3.1, or a track name "
                             f"(numpy_ag, pytorch); known IDs: {', '.join(EXERCISES)}")
    return list(dict.fromkeys(ids))


def test_paths(spec: str | None, kit: Path) -> list[str]:
    """The grader folders to collect: all of ``grader`` or only the tracks of the selected exercises.

    Collecting only the NumPy track's tests spares the grading process the import of torch.
    """
    if not spec:
        return ["grader"]
    tracks = {EXERCISES[i].track for i in exercise_ids(spec)}
    paths = [f"{base}/{track}" for track in sorted(tracks) for base in ("grader", "grader/hidden")
             if (kit / base / track).is_dir()]
    return paths or ["grader"]


def marker_expression(spec: str | None) -> str | None:
    """The ``-m`` expression selecting those exercises (None when every exercise is graded)."""
    if not spec:
        return None
    return " or ".join(EXERCISES[i].marker for i in exercise_ids(spec))
