"""Every accuracy the docs require of a student's code is the one the grader checks.

Each number the docs quote as the grader's requirement is listed in QUOTES with where the grader takes it from:
a constant of grader/tolerances.py, or a literal keyword argument (``rtol=1e-9``) of one grader test. The test
reads both, the docs text and the grader's source, and fails when they disagree, when a quoted phrase is no
longer on its page, or when a page quotes a number in a sentence about the grader that QUOTES does not cover.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.docs_support import DOCS, ROOT, pages, prose_lines, rel


@dataclass(frozen=True)
class Constant:
    """``name`` in grader/tolerances.py."""

    name: str

    def value(self) -> float:
        tree = ast.parse((ROOT / "grader" / "tolerances.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == self.name for t in node.targets):
                return float(ast.literal_eval(node.value))
        raise AssertionError(f"grader/tolerances.py has no constant {self.name}")

    def __str__(self) -> str:
        return f"grader/tolerances.py {self.name}"


@dataclass(frozen=True)
class Literal:
    """The keyword argument ``keyword`` given as a number in the calls of the grader test ``test`` in ``path``."""

    path: str
    test: str
    keyword: str

    def value(self) -> float:
        tree = ast.parse((ROOT / self.path).read_text(encoding="utf-8"))
        funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == self.test]
        assert funcs, f"{self.path} has no test {self.test}"
        values = {float(ast.literal_eval(k.value)) for call in ast.walk(funcs[0]) if isinstance(call, ast.Call)
                  for k in call.keywords if k.arg == self.keyword and isinstance(k.value, (ast.Constant, ast.UnaryOp))}
        assert len(values) == 1, f"{self}: expected one literal {self.keyword}=..., found {sorted(values)}"
        return values.pop()

    def __str__(self) -> str:
        return f"{self.path}::{self.test} {self.keyword}="


# (page, a pattern of the quoted phrase whose group "n" is the number as the page writes it, the grader's source)
QUOTES = [
    ("exercises/numpy.md", r"match the reference to a relative \$(?P<n>10\^\{-\d+\})\$",
     Literal("grader/numpy_ag/test_continuous_bernoulli.py",
             "test_cb_log_norm_is_log_2_at_one_half_and_exact_near_it", "rtol")),
    ("exercises/numpy.md", r"and an absolute \$(?P<n>10\^\{-\d+\})\$",
     Literal("grader/numpy_ag/test_continuous_bernoulli.py",
             "test_cb_log_norm_is_log_2_at_one_half_and_exact_near_it", "atol")),
    ("exercises/estimators.md", r"within (?P<n>\d+(?:\.\d+)?) standard errors", Constant("MC_Z")),
]

# A number written as the docs write requirements: 10^{-9}, 1e-9, 2 \times 10^{-3}, or "N standard errors".
NUMBER = re.compile(r"(?:\d+(?:\.\d+)?\s*\\times\s*)?10\^\{-?\d+\}|\b\d+(?:\.\d+)?e-\d+\b|\b\d+ standard errors")
ABOUT_GRADER = re.compile(r"\bgrader\b|\bthe tests? (?:require|check)", re.I)


def number(text: str) -> float:
    """``10^{-9}`` -> 1e-9, ``2 \\times 10^{-3}`` -> 2e-3, ``1e-9`` -> 1e-9, ``6`` -> 6.0."""
    m = re.fullmatch(r"(?:(?P<m>\d+(?:\.\d+)?)\s*\\times\s*)?10\^\{(?P<e>-?\d+)\}", text.strip())
    if m:
        return float(m["m"] or 1) * 10.0 ** int(m["e"])
    return float(text)


def paragraphs(page: Path) -> list[str]:
    """The page's prose (code blocks left out), one string per paragraph."""
    out, current = [], []
    for _, line in prose_lines(page):
        if line.strip():
            current.append(line.strip())
        elif current:
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return out


def mismatches(text: str, pattern: str, source) -> list[str]:
    """What is wrong with one quote in ``text``: missing, or a number other than the grader's."""
    found = list(re.finditer(pattern, text))
    if not found:
        return [f"the phrase /{pattern}/ is not on the page"]
    want = source.value()
    return [f"quotes {m['n']} = {number(m['n']):g}, but the grader uses {want:g} ({source})"
            for m in found if number(m["n"]) != pytest.approx(want, rel=1e-12)]


@pytest.mark.parametrize("page, pattern, source", QUOTES, ids=[f"{p}:{s}" for p, _, s in QUOTES])
def test_each_quoted_requirement_is_the_graders_number(page, pattern, source):
    text = " ".join(paragraphs(DOCS / page))
    assert not mismatches(text, pattern, source), f"docs/{page}: {mismatches(text, pattern, source)}"


def test_no_page_quotes_a_requirement_of_the_grader_that_is_not_checked():
    """A number in a paragraph about the grader is either covered by QUOTES or is not a requirement at all."""
    unchecked = []
    for page in pages():
        covered = [p for pg, p, _ in QUOTES if pg == rel(page)]
        for para in paragraphs(page):
            if not ABOUT_GRADER.search(para):
                continue
            spans = [m.span("n") for p in covered for m in re.finditer(p, para)]
            for m in NUMBER.finditer(para):
                if not any(a <= m.start() < b or m.start() <= a < m.end() for a, b in spans):
                    unchecked.append(f"docs/{rel(page)}: {m.group(0)!r} in: {para[:160]}...")
    assert not unchecked, ("numbers in sentences about the grader that no entry of QUOTES ties to the grader's "
                           "source (add one, or reword):\n" + "\n".join(unchecked))


def test_the_check_catches_a_wrong_number():
    """Guards the tests above: a page quoting 1e-15 where the grader checks 1e-9 is reported, 1e-9 is not."""
    page, pattern, source = QUOTES[0]
    good = "the grader requires your $\\log C$ to match the reference to a relative $10^{-9}$ (and"
    bad = good.replace("10^{-9}", "10^{-15}")
    assert source.value() == 1e-9
    assert mismatches(good, pattern, source) == []
    assert mismatches(bad, pattern, source) and "1e-15" in mismatches(bad, pattern, source)[0]
    assert mismatches("no such sentence", pattern, source) == [f"the phrase /{pattern}/ is not on the page"]
    assert number("2 \\times 10^{-3}") == pytest.approx(2e-3) and number("6") == 6.0
