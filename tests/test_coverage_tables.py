"""The instructors' coverage tables (docs/includes/grader-numpy_ag.md, grader-pytorch.md) are true and complete.

Each table has one row per exercise of its track, in the registry's order: ``| ID | behaviours checked | core
tests | planted bugs |``, then one line of totals, ``N planted bugs (the sum of the column) and M correct variants
(full marks) in all``. Checked here:

- the row IDs are exactly the track's exercises (vaekit/registry.py);
- a row's planted bugs are the number of planted bugs of that exercise (tests/mutants_*.py), the totals are the
  column's sum and the number of correct variants of the track's exercises;
- the core tests column holds only backquoted test names and ``N hidden``. A name names a test when it is the
  test's name or a suffix of it after an underscore, ``test_`` optional (``matches_reference`` names
  ``test_kl_matches_reference``); each name must name exactly one test of its exercise, and that test must be
  core; every visible core test must be named; ``N hidden`` is the number of hidden core tests (the site names
  no hidden test), and the behaviours say ``hidden: ...`` exactly when the exercise has hidden tests. The tests
  and their core and hidden flags come from the one grading of the solutions the session shares
  (tests/conftest.py: solutions_grading).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.mutants_challenge import MUTANTS as CHALLENGE_MUTANTS, VARIANTS as CHALLENGE_VARIANTS
from tests.mutants_numpy import MUTANTS as NUMPY_MUTANTS, VARIANTS as NUMPY_VARIANTS
from tests.mutants_pytorch import MUTANTS as TORCH_MUTANTS, VARIANTS as TORCH_VARIANTS
from vaekit.registry import EXERCISES

ROOT = Path(__file__).resolve().parents[1]
TABLES = {"numpy_ag": ROOT / "docs/includes/grader-numpy_ag.md", "pytorch": ROOT / "docs/includes/grader-pytorch.md"}
MUTANTS = NUMPY_MUTANTS + TORCH_MUTANTS + CHALLENGE_MUTANTS
VARIANTS = NUMPY_VARIANTS + TORCH_VARIANTS + CHALLENGE_VARIANTS

ROW_START = re.compile(r"^\|\s*T?\d+\.\d+\s*\|")  # a line that is an exercise's row
CELL_SPLIT = re.compile(r"(?<!\\)\|")  # cells are split at pipes that are not escaped (\| inside a cell)
NAME = re.compile(r"`([^`]+)`")
HIDDEN = re.compile(r"\b(\d+) hidden\b")
TOTALS = re.compile(r"^(\d+) planted bugs \(the sum of the column\) and (\d+) correct variants \(full marks\) in all\b",
                    re.M)


class TableError(ValueError):
    """A line of a coverage table that does not have the documented form."""


@dataclass(frozen=True)
class Row:
    id: str
    behaviours: str
    names: tuple[str, ...]  # the core tests named, as written (backquotes dropped)
    hidden: int  # the hidden core tests counted
    bugs: int


@dataclass(frozen=True)
class Table:
    rows: dict[str, Row]  # in the order of the file
    total_bugs: int
    total_variants: int


def parse(text: str) -> Table:
    """The rows and totals of a coverage table; TableError says which line is not of the documented form."""
    rows: dict[str, Row] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not ROW_START.match(line):
            continue
        cells = [c.strip() for c in CELL_SPLIT.split(line.strip())]
        if len(cells) != 6 or cells[0] or cells[-1]:
            raise TableError(f"line {n}: a row needs 4 cells | ID | behaviours | core tests | planted bugs |: {line}")
        ex_id, behaviours, core, bugs = cells[1:5]
        rest = HIDDEN.sub("", NAME.sub("", core))
        if re.sub(r"[,\s]", "", rest):
            raise TableError(f"line {n}: the core tests cell of {ex_id} may hold only `names` and 'N hidden', "
                             f"not {rest.strip(' ,')!r}")
        if not bugs.isdigit():
            raise TableError(f"line {n}: the planted bugs of {ex_id} must be a number, not {bugs!r}")
        if ex_id in rows:
            raise TableError(f"line {n}: a second row for {ex_id}")
        hidden = HIDDEN.findall(core)
        rows[ex_id] = Row(ex_id, behaviours, tuple(NAME.findall(core)), sum(map(int, hidden)), int(bugs))
    totals = TOTALS.findall(text)
    if len(totals) != 1:
        raise TableError(f"{len(totals)} lines of totals ('N planted bugs (the sum of the column) and M correct "
                         "variants (full marks) in all'); expected one")
    return Table(rows, int(totals[0][0]), int(totals[0][1]))


def count_problems(table: Table, track: str) -> list[str]:
    """What the table gets wrong about the track's exercises and the planted bugs and variants."""
    problems = []
    ids = [ex.id for ex in EXERCISES.values() if ex.track == track]
    if list(table.rows) != ids:
        problems.append(f"rows {list(table.rows)}; the track's exercises, in order, are {ids}")
    bugs = Counter(m.exercise for m in MUTANTS)
    problems += [f"{ex_id}: {row.bugs} planted bugs in the table, {bugs[ex_id]} planted"
                 for ex_id, row in table.rows.items() if row.bugs != bugs[ex_id]]
    column = sum(row.bugs for row in table.rows.values())
    if table.total_bugs != column:
        problems.append(f"total {table.total_bugs} planted bugs, the column sums to {column}")
    planted = sum(bugs[ex_id] for ex_id in ids)
    if table.total_bugs != planted:
        problems.append(f"total {table.total_bugs} planted bugs, the track's exercises have {planted}")
    variants = sum(1 for v in VARIANTS if v.exercise in ids)
    if table.total_variants != variants:
        problems.append(f"total {table.total_variants} correct variants, the track's exercises have {variants}")
    return problems


def names_test(name: str, test: str) -> bool:
    """Whether a row's ``name`` names the test function ``test``: equal, or a suffix after an underscore."""
    name, test = name.removeprefix("test_"), test.removeprefix("test_")
    return test == name or test.endswith("_" + name)


def core_problems(row: Row, tests: list[dict]) -> list[str]:
    """What the row gets wrong about its exercise's tests (``{"name", "core", "hidden"}`` of a grading report;
    a parametrised test appears once per case, as ``name[case]``)."""
    by_name: dict[str, dict] = {}
    for t in tests:
        by_name.setdefault(t["name"].split("[")[0], t)
    visible = {n: t for n, t in by_name.items() if not t["hidden"]}
    problems, named = [], set()
    for name in row.names:
        hits = [n for n in visible if names_test(name, n)]
        if len(hits) != 1:
            problems.append(f"{row.id}: `{name}` names {len(hits)} of its tests ({hits}); it must name exactly one")
        elif not visible[hits[0]]["core"]:
            problems.append(f"{row.id}: `{name}` is {hits[0]}, which is not a core test")
        named.update(hits)
    unnamed = sorted(n for n, t in visible.items() if t["core"] and n not in named)
    if unnamed:
        problems.append(f"{row.id}: core tests not named in its row: {unnamed}")
    hidden_core = sum(1 for t in by_name.values() if t["hidden"] and t["core"])
    if row.hidden != hidden_core:
        problems.append(f"{row.id}: the row counts {row.hidden} hidden core tests; the grader has {hidden_core}")
    has_hidden = any(t["hidden"] for t in by_name.values())
    if has_hidden != ("hidden:" in row.behaviours):
        problems.append(f"{row.id}: the behaviours say 'hidden: ...' only when the exercise has hidden tests "
                        f"(it has {'some' if has_hidden else 'none'})")
    return problems


@pytest.fixture(scope="module")
def tables() -> dict[str, Table]:
    return {track: parse(path.read_text(encoding="utf-8")) for track, path in TABLES.items()}


@pytest.mark.parametrize("track", sorted(TABLES))
def test_rows_planted_bugs_and_totals_match_the_registry_and_the_planted_bugs(tables, track):
    problems = count_problems(tables[track], track)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("track", sorted(TABLES))
def test_every_core_test_is_named_in_its_row_and_nothing_else(tables, track, solutions_grading):
    report = solutions_grading["plain"]
    assert report is not None, "the grading of the solutions wrote no report:\n" + solutions_grading["stdout"][-3000:]
    assert Path(report["target"]).resolve() == (ROOT / "solutions").resolve(), \
        f"the shared grading graded {report['target']}, not this kit's solutions"
    graded = {row["id"]: row["tests"] for row in report["exercises"] if EXERCISES[row["id"]].track == track}
    assert set(graded) == set(tables[track].rows), f"graded {sorted(graded)}, rows {sorted(tables[track].rows)}"
    problems = [p for ex_id, row in tables[track].rows.items() for p in core_problems(row, graded[ex_id])]
    assert not problems, "\n".join(problems)


# --- The checks can fail ---------------------------------------------------------------------------------------

def _edit_row(text: str, ex_id: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new`` in the row of ``ex_id`` (which must hold it)."""
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if re.match(rf"^\|\s*{re.escape(ex_id)}\s*\|", line))
    assert old in lines[i], f"{old!r} not in the row of {ex_id}"
    lines[i] = lines[i].replace(old, new)
    return "\n".join(lines) + "\n"


def test_the_count_checks_find_a_stale_count_a_stale_total_and_a_missing_row():
    text = TABLES["numpy_ag"].read_text(encoding="utf-8")
    table = parse(text)
    assert not count_problems(table, "numpy_ag")
    n = table.rows["8.1"].bugs
    stale = parse(_edit_row(text, "8.1", f"| {n} |", f"| {n - 1} |"))
    assert stale.rows["8.1"].bugs == n - 1
    assert f"8.1: {n - 1} planted bugs in the table, {n} planted" in count_problems(stale, "numpy_ag")
    total = parse(text.replace(f"{table.total_bugs} planted bugs (the sum", f"{table.total_bugs + 1} planted bugs (the sum"))
    assert any("the column sums to" in p for p in count_problems(total, "numpy_ag"))
    variants = parse(text.replace(f"{table.total_variants} correct variants", f"{table.total_variants - 5} correct variants"))
    assert any("correct variants" in p for p in count_problems(variants, "numpy_ag"))
    missing = parse("\n".join(line for line in text.splitlines() if not line.startswith("| 11.4 |")))
    assert any("the track's exercises, in order" in p for p in count_problems(missing, "numpy_ag"))
    with pytest.raises(TableError, match="all three"):
        parse(_edit_row(text, "6.2", "`matches_reference`, `applies_every_hidden_layer`, `keeps_float32`", "all three"))
    with pytest.raises(TableError, match="lines of totals"):
        parse(re.sub(TOTALS, "", text))


def test_the_core_checks_find_a_missing_an_ambiguous_a_non_core_name_and_a_wrong_hidden_count():
    tests = [
        {"name": "test_kl_matches_reference", "core": True, "hidden": False},
        {"name": "test_kl_keeps_float32[case0]", "core": True, "hidden": False},
        {"name": "test_kl_keeps_float32[case1]", "core": True, "hidden": False},
        {"name": "test_kl_gradients_match_reference", "core": False, "hidden": False},
        {"name": "test_kl_on_fresh_inputs", "core": True, "hidden": True},
    ]
    good = Row("3.1", "values; hidden: fresh inputs", ("matches_reference", "test_kl_keeps_float32"), 1, 8)
    assert core_problems(good, tests) == []
    missing = Row("3.1", good.behaviours, ("matches_reference",), 1, 8)
    assert core_problems(missing, tests) == ["3.1: core tests not named in its row: ['test_kl_keeps_float32']"]
    not_core = Row("3.1", good.behaviours, (*good.names, "gradients_match_reference"), 1, 8)
    assert core_problems(not_core, tests) == ["3.1: `gradients_match_reference` is test_kl_gradients_match_reference, "
                                              "which is not a core test"]
    ambiguous = Row("3.1", good.behaviours, ("reference", "keeps_float32"), 1, 8)
    assert any("`reference` names 2" in p for p in core_problems(ambiguous, tests))
    not_a_suffix = Row("3.1", good.behaviours, ("kl_matches", "keeps_float32"), 1, 8)
    assert any("`kl_matches` names 0" in p for p in core_problems(not_a_suffix, tests))
    hidden = Row("3.1", "values", good.names, 0, 8)
    assert len(core_problems(hidden, tests)) == 2
    parsed = parse("| 3.1 | values; hidden: fresh | `matches_reference`, `test_kl_keeps_float32`, 1 hidden | 8 |\n\n"
                   "8 planted bugs (the sum of the column) and 3 correct variants (full marks) in all.\n")
    assert parsed.rows["3.1"] == Row("3.1", "values; hidden: fresh", good.names, 1, 8)
