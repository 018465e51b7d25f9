"""The student stubs are generated from the solutions and cannot drift apart from them."""

import ast

import pytest

from vaekit.paths import EXERCISES_DIR, SOLUTIONS
from vaekit.regions import RegionError, parse
from vaekit.stubs import expected_stubs, make_stub


def _public_defs(module: ast.Module) -> dict:
    """Module-level functions and classes, and the methods of those classes (not nested helpers)."""
    defs = {}
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defs[node.name] = node
        if isinstance(node, ast.ClassDef):
            defs.update({f"{node.name}.{m.name}": m for m in node.body if isinstance(m, ast.FunctionDef)})
    return defs


def test_committed_stubs_equal_the_generated_ones():
    stale = [str(p) for p, text in expected_stubs().items() if not p.exists() or p.read_text() != text]
    assert not stale, f"stubs differ from their solutions; run 'python -m vaekit stubs': {stale}"


def test_every_stub_file_has_a_solution_file():
    stubs = {p.relative_to(EXERCISES_DIR) for p in EXERCISES_DIR.rglob("*.py")} - {EXERCISES_DIR.joinpath("__init__.py").relative_to(EXERCISES_DIR)}
    solutions = {p.relative_to(SOLUTIONS) for p in SOLUTIONS.rglob("*.py")} - {SOLUTIONS.joinpath("__init__.py").relative_to(SOLUTIONS)}
    assert stubs == solutions


def test_stubs_keep_signatures_and_docstrings_and_name_their_exercise():
    for path, text in expected_stubs().items():
        solution = ast.parse((SOLUTIONS / path.relative_to(EXERCISES_DIR)).read_text())
        stub = ast.parse(text)
        sol_defs, stub_defs = _public_defs(solution), _public_defs(stub)
        assert sol_defs.keys() == stub_defs.keys(), path
        for name, node in sol_defs.items():
            assert ast.get_docstring(node) == ast.get_docstring(stub_defs[name]), f"{path}:{name} docstring"
            if isinstance(node, ast.FunctionDef):
                assert ast.dump(node.args) == ast.dump(stub_defs[name].args), f"{path}:{name} signature"
        assert "# BEGIN SOLUTION" not in text and "# END SOLUTION" not in text


def test_a_stub_raises_not_implemented_error_naming_its_exercise(tmp_path):
    source = (
        "def kl_to_standard_normal(mu, log_var):\n"
        '    """Doc."""\n'
        "    # BEGIN SOLUTION 3.1\n"
        "    return 0.0\n"
        "    # END SOLUTION\n"
    )
    namespace = {}
    exec(make_stub(source, "solutions/numpy_ag/kl.py"), namespace)
    with pytest.raises(NotImplementedError, match=r"Exercise 3\.1 \(kl_to_standard_normal\).*docs/exercises/numpy.md#ex3_1"):
        namespace["kl_to_standard_normal"](0, 0)
    assert "    # TODO(Exercise 3.1): KL to the standard normal.\n" in make_stub(source, "solutions/numpy_ag/kl.py")


def test_an_optional_region_says_so_in_its_stub():
    source = (
        "def helper(mu):\n"
        '    """Doc."""\n'
        "    # BEGIN SOLUTION 3.1 (optional)\n"
        "    return mu\n"
        "    # END SOLUTION\n"
    )
    stub = make_stub(source, "solutions/numpy_ag/kl.py")
    assert "    # TODO(Exercise 3.1, optional): KL to the standard normal; the exercise can do without it.\n" in stub
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError, match=r"Exercise 3\.1 \(helper\): optional, not implemented"):
        namespace["helper"](0)
    (region,) = parse(source, "x.py")
    assert region.optional and region.id == "3.1"


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f():\n    # BEGIN SOLUTION 3.1: KL (1 point)\n    return 1\n    # END SOLUTION\n"
         .replace("3.1: KL", "3.1 (optional): KL"), ":2: the declaring region of 3.1 cannot be optional"),
        ("def f():\n    # BEGIN SOLUTION 3.1\n    return 1\n", ":2: '# BEGIN SOLUTION 3.1' has no '# END SOLUTION'"),
        ("def f():\n    return 1\n    # END SOLUTION\n", ":3: '# END SOLUTION' without a BEGIN"),
        ("def f():\n    # BEGIN SOLUTION 99.9\n    return 1\n    # END SOLUTION\n", ":2: unknown exercise ID '99.9'"),
        ("def f():\n    # BEGIN SOLUTION 3.1\n    # BEGIN SOLUTION 3.1\n    # END SOLUTION\n", ":3: nested"),
    ],
)
def test_malformed_solution_regions_are_reported_with_their_line(source, message):
    with pytest.raises(RegionError, match="solutions/numpy_ag/x.py" + message):
        make_stub(source, "solutions/numpy_ag/x.py")
