"""``vaekit scaffold``: the skeleton of a new exercise in both tracks, ready for an instructor to fill in.

    vaekit scaffold 12.1 "KL between two diagonal Gaussians" --points 2 --module kl_pair --function kl_between

writes, for the NumPy/autograd exercise ``12.1`` and its PyTorch twin ``T12.1``:

* a function with its solution region in ``solutions/<track>/<module>.py`` (the file is created if needed),
  whose header declares the exercise to the registry: ``# BEGIN SOLUTION 12.1: <title> (<points> points)``;
* a core grader test in ``grader/<track>/test_<module>.py`` that compares with an independent computation;
* a section with the heading, summary line and command that tests/test_docs_exercises.py requires, at the end of
  the track's exercise page;
* three planted-bug templates at the end of ``tests/mutants_numpy.py`` and ``tests/mutants_pytorch.py``;
* a row in the track's coverage table of the instructors' page, ``docs/includes/grader-<track>.md``, with its
  totals line raised by those three planted bugs.

The placeholder exercise is "return x unchanged", so that the kit's tests pass straight after the scaffold; the
instructor then writes the real formula, the real test and real mistakes, and runs ``vaekit stubs``. The recipe
is on the docs page *Changing the kit*; ``tests/test_scaffold.py`` performs it on a copy of the kit.
"""

from __future__ import annotations

import re
from pathlib import Path

from .regions import HEAD, header
from .registry import EXERCISES, Exercise

ID = re.compile(r"^\d+\.\d+$")


class ScaffoldError(ValueError):
    """A scaffold that cannot be made (an ID in use, a bad name); the text says what to change."""


def _check(ex_id: str, title: str, points: float, module: str, function: str) -> None:
    if not ID.match(ex_id):
        raise ScaffoldError(f"the ID must look like 12.1 (the PyTorch twin gets T12.1), got {ex_id!r}")
    for new in (ex_id, "T" + ex_id):
        if new in EXERCISES:
            raise ScaffoldError(f"Exercise {new} exists already ({EXERCISES[new].title}); choose a new ID")
    for name, what in ((module, "--module"), (function, "--function")):
        if not name.isidentifier() or name.startswith("_"):
            raise ScaffoldError(f"{what} must be a Python name such as kl_pair, got {name!r}")
    head = HEAD.match(header(ex_id, title, points).removeprefix("# BEGIN SOLUTION"))
    if "\n" in title or head is None or head["title"] != title or not points > 0:
        raise ScaffoldError(f"the title must be one line and the points a positive number, got {title!r} and "
                            f"{points!r}")


def _append(path: Path, text: str, header: str = "") -> None:
    old = path.read_text() if path.exists() else header
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(old.rstrip("\n") + "\n\n\n" + text.strip("\n") + "\n")


SOLUTION = '''def {function}(x):
    r"""{title} (Exercise {id}).

    Replace this placeholder ("return x unchanged") by the exercise: its equation, the shapes of the arguments
    and of the result, and what the function must not do.

    Args:
        x: an array of any shape.

    Returns:
        ``x`` unchanged (placeholder).

    See: docs/exercises/{page}.md#{marker}
    """
    {begin}
    return x * 1.0
    # END SOLUTION
'''

GRADER_TEST = '''@pytest.mark.{marker}
@pytest.mark.core
def test_{function}_matches_an_independent_computation({fixture}, rng):
    x = rng.normal(size=(4, 3))
    expected = x  # compute the expected value here, independently of the solution
    got = call("{function}", {fixture}.{module}.{function}, {arg})
    check_close(got, expected, "{function}(x)", {{"x": x}})
'''

DOCS = '''### Exercise {id} — {title} {{#{marker}}}

**Implement** `{function}(x)` · **Points** {points:g} · **Marker** `{marker}`

Say here what the function computes, with its equation, and which theory page explains it.

```bash
pytest grader -m {marker}
```

The grader's tests:

<!-- grader-tests: {marker} -->
'''

MUTANTS = '''# Planted bugs of Exercise {id} (vaekit scaffold): replace them by realistic mistakes of this exercise.
{table}.append(Mutant("{slug}_doubles", "{track}/{module}.py", (("return x * 1.0", "return x * 2.0"),), "{id}",
                      ("test_{function}_matches_an_independent_computation",), "2x"))
{table}.append(Mutant("{slug}_negates", "{track}/{module}.py", (("return x * 1.0", "return -x * 1.0"),), "{id}",
                      ("test_{function}_matches_an_independent_computation",), "sign is flipped"))
{table}.append(Mutant("{slug}_shifts", "{track}/{module}.py", (("return x * 1.0", "return x * 1.0 + 0.5"),), "{id}",
                      ("test_{function}_matches_an_independent_computation",), "off by the same constant"))
'''


def scaffold(root: Path, ex_id: str, title: str, points: float, module: str, function: str) -> list[Path]:
    """Write the skeleton of Exercise ``ex_id`` and ``T<ex_id>`` into the kit at ``root``; return the files."""
    _check(ex_id, title, points, module, function)
    root = Path(root)
    written = []
    for track, new_id, page, fixture, imports, arg in (
        ("numpy_ag", ex_id, "numpy", "np_track", "import autograd.numpy as np", "x"),
        ("pytorch", "T" + ex_id, "pytorch", "torch_track", "import torch", "torch.from_numpy(x)"),
    ):
        ex = Exercise(new_id, title, points, track, module, (function,), page)
        fill = dict(id=new_id, title=title, function=function, module=module, marker=ex.marker, page=page,
                    points=points, fixture=fixture, arg=arg, track=track,
                    table="MUTANTS", slug=f"{'t_' if track == 'pytorch' else ''}{function}",
                    begin=header(new_id, title, points))
        solution = root / "solutions" / track / f"{module}.py"
        _append(solution, SOLUTION.format(**fill), f'"""Exercise {new_id}: {title}."""\n\n{imports}\n')
        test = root / "grader" / track / f"test_{module}.py"
        test_header = (f'"""Exercise {new_id}: {title} ({ex.docs_page.removeprefix("docs/")})."""\n\n'
                       + ("import numpy as np\n" if track == "numpy_ag" else "import torch\n")
                       + "import pytest\n\nfrom grader.harness import call, check_close\n")
        _append(test, GRADER_TEST.format(**fill), test_header)
        page_path = root / "docs" / "exercises" / f"{page}.md"
        _append(page_path, DOCS.format(**fill))
        mutants = root / "tests" / ("mutants_numpy.py" if track == "numpy_ag" else "mutants_pytorch.py")
        _append(mutants, MUTANTS.format(**fill))
        table = root / "docs" / "includes" / f"grader-{track}.md"
        core = ("" if track == "numpy_ag" else f"test_{function}_") + "matches_an_independent_computation"
        _add_row(table, f"| {new_id} | values vs an independent computation (the scaffold's placeholder: say what "
                        f"the tests check) | `{core}` | {PLANTED} |")  # each table's way of naming core tests
        written += [solution, test, page_path, mutants, table]
    return written


PLANTED = 3  # the planted-bug templates the scaffold writes per exercise
TOTALS = re.compile(r"^(\d+)( planted bugs \(the sum of the column\))", re.M)


def _add_row(path: Path, row: str) -> None:
    """Put ``row`` after the last exercise row of a coverage table and add its planted bugs to the totals line."""
    lines = path.read_text().splitlines()
    last = max(i for i, line in enumerate(lines) if re.match(r"^\|\s*T?\d+\.\d+\s*\|", line))
    lines.insert(last + 1, row)
    text, n = TOTALS.subn(lambda m: f"{int(m[1]) + PLANTED}{m[2]}", "\n".join(lines) + "\n")
    if n != 1:
        raise ScaffoldError(f"{path}: no line of totals ('N planted bugs (the sum of the column) ...') to update")
    path.write_text(text)
