"""Every snippet shown in the docs is run or checked, so that the pages cannot drift from the code.

* ``python`` blocks are executed (each in a fresh namespace, from the kit's top folder). Snippets that import
  the student's code (``from exercises.numpy_ag... import``) are run against the reference solutions instead,
  since the stubs in exercises/ raise NotImplementedError until a student writes them.
* ``bash`` blocks, and commands written inline in the prose (```pytest grader -m ex2_1```), are checked one
  command at a time against what they name: ``vaekit`` commands are parsed by the kit's own argument parser,
  ``pytest grader`` options and markers against the grader (a marker must select at least one grader test),
  ``bash scripts/...`` must exist and pass ``bash -n``, ``python scripts/...`` must exist and list the options
  shown in its ``--help``, ``mkdocs`` commands are parsed by MkDocs' command line.
* ``text`` blocks show output and are not run.

A block that cannot run is marked with ``<!-- snippet: skip <reason> -->`` on the line before it; there must
be very few.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import tomllib

import pytest

from tests.docs_support import (
    ROOT,
    code_blocks,
    inline_commands,
    pages,
    rel,
    shell_commands,
)
from vaekit.registry import BY_MARKER

LANGUAGES = {"python", "bash", "text"}
MAX_SKIPPED = 3
MAX_LINE = 79  # characters of a code line that fit the text column of a 1280-pixel-wide window

BLOCKS = [b for page in pages() for b in code_blocks(page)]
PYTHON = [b for b in BLOCKS if b.lang == "python"]
BASH = [b for b in BLOCKS if b.lang == "bash"]
COMMANDS = sorted(
    {cmd for b in BASH if not b.skip for cmd in shell_commands(b.code)}
    | {cmd for page in pages() for _, cmd in inline_commands(page)}
)
# Stand-ins the pages use for a path the reader chooses.
PLACEHOLDER_PATHS = {"path/to/submission", "PATH", "DIR"}


def _grader_tests() -> dict[str, list[str]]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from mkdocs_hooks import grader_tests
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return grader_tests(ROOT / "grader")


GRADER_TESTS = _grader_tests()


def test_every_block_has_a_known_language():
    bad = [f"{b.id} ({b.lang or 'no language'})" for b in BLOCKS if b.lang not in LANGUAGES]
    assert not bad, f"code blocks must be one of {sorted(LANGUAGES)}, so that a test knows what to do: {bad}"


def test_few_blocks_are_skipped():
    skipped = [b.id for b in BLOCKS if b.skip is not None]
    assert len(skipped) <= MAX_SKIPPED, f"too many snippets marked as not runnable: {skipped}"
    assert all(b.skip for b in BLOCKS if b.skip is not None), "a skipped snippet must say why"


def test_code_lines_fit_the_page():
    long = [f"{b.id}: line {i + 1} has {len(line)} characters" for b in BLOCKS
            for i, line in enumerate(b.code.splitlines()) if len(line) > MAX_LINE]
    assert not long, f"code lines longer than {MAX_LINE} characters scroll sideways on the page:\n" + "\n".join(long)


def test_the_snippets_are_not_vacuous():
    """The page structure this test relies on is there: snippets exist on the theory and exercise pages."""
    assert len(PYTHON) >= 15 and len(BASH) >= 30 and len(COMMANDS) >= 20


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_snippet_runs(block):
    if block.skip:
        pytest.skip(block.skip)
    import numpy as np
    import torch

    code = re.sub(r"\b(from|import)\s+exercises\.", r"\1 solutions.", block.code)
    namespace = {"__name__": "__docs_snippet__"}
    cwd = os.getcwd()
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()  # snippets may seed the global RNGs
    os.chdir(ROOT)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"docs/{block.id}", "exec"), namespace)
    finally:
        os.chdir(cwd)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
    if block.output is not None:
        shown = [line.rstrip() for line in block.output.strip("\n").splitlines()]
        got = [line.rstrip() for line in printed.getvalue().strip("\n").splitlines()]
        assert got == shown, (f"docs/{block.id}: the output shown under the snippet is not what it prints:\n"
                              + "\n".join(got))


THEORY_PRINTING = [b for b in PYTHON if b.page.startswith("theory/") and "print(" in b.code]


@pytest.mark.parametrize("block", THEORY_PRINTING, ids=[b.id for b in THEORY_PRINTING])
def test_theory_snippets_show_their_output(block):
    """A snippet of a theory page that prints shows what it prints, in a ``text`` block right under it."""
    assert block.output is not None, f"docs/{block.id}: add a ```text block with the snippet's output under it"


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_valid(command, grader_help):
    check_command(command, grader_help)


def test_bash_blocks_are_checked():
    skipped = [b.id for b in BASH if b.skip]
    checked = [b for b in BASH if not b.skip]
    assert all(shell_commands(b.code) for b in checked), "an empty bash block"
    assert len(skipped) <= MAX_SKIPPED


@pytest.fixture(scope="module")
def grader_help():
    """``pytest grader --help``: the options the grader adds to pytest."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "grader", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def check_command(command: str, grader_help: str) -> None:
    words = shlex.split(command, comments=True)
    assert words, f"empty command: {command!r}"
    if words[0].startswith(".venv/bin/"):
        words[0] = words[0][len(".venv/bin/"):]
    if words[:3] == ["python", "-m", "vaekit"]:
        words = ["vaekit", *words[3:]]
    if words[:2] == ["python", "-m"]:
        words = words[2:]
    head = words[0]
    if head == "source":
        assert words[1:] == [".venv/bin/activate"], f"unexpected: {command}"
        assert "-m venv .venv" in (ROOT / "scripts" / "setup.sh").read_text(), "scripts/setup.sh no longer makes .venv"
    elif head == "bash":
        _check_script(words[1:], command, grader_help)
    elif head == "pytest":
        _check_pytest(words[1:], command, grader_help)
    elif head == "vaekit":
        _check_vaekit(words[1:], command)
    elif head == "mkdocs":
        _check_mkdocs(words[1:], command)
    elif head == "pip":
        _check_pip(words[1:], command)
    elif head == "python" and len(words) > 1 and words[1].startswith("scripts/"):
        _check_python_script(words[1:], command)
    else:
        pytest.fail(f"the docs show a command that no test checks: {command!r} (add a check or mark the block)")


def _check_script(args: list[str], command: str, grader_help: str) -> None:
    assert args, f"bash without a script: {command}"
    script = ROOT / args[0]
    assert script.is_file(), f"{command}: {args[0]} does not exist"
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, f"{args[0]} has a syntax error: {syntax.stderr}"
    if args[0] == "scripts/grade.sh":  # passes its arguments on to pytest grader
        _check_pytest(["grader", *args[1:]], command, grader_help)
    elif args[0] == "scripts/test.sh":
        assert not args[1:] or args[1].startswith("-"), command
    else:
        assert len(args) == 1, f"{command}: {args[0]} takes no arguments"


def _check_pytest(args: list[str], command: str, grader_help: str) -> None:
    if not args or args[0] != "grader":
        assert all(a.startswith("-") or (ROOT / a.split("::")[0]).exists() for a in args), command
        return
    rest = args[1:]
    while rest:
        option = rest.pop(0)
        if option == "-m":
            expression = rest.pop(0)
            markers = [w for w in re.findall(r"[A-Za-z_]\w*", expression) if w not in {"and", "or", "not"}]
            for marker in markers:
                assert marker in BY_MARKER, f"{command}: {marker} is no exercise marker of the registry (vaekit/registry.py)"
                assert GRADER_TESTS.get(marker), f"{command}: no grader test carries the marker {marker}"
        elif option == "--target":
            target = rest.pop(0)
            assert "--target" in grader_help, "the grader no longer has a --target option"
            assert target in {"exercises", "solutions"} or target in PLACEHOLDER_PATHS, f"{command}: target {target}"
        elif option in {"-q", "-x", "-v"}:
            continue
        else:
            pytest.fail(f"{command}: option {option} is not checked by this test")


def _check_vaekit(args: list[str], command: str) -> None:
    from vaekit.cli import build_parser

    parser = build_parser()
    if len(args) == 1:  # a bare `vaekit NAME` in the prose names a command; its arguments are shown elsewhere
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        assert args[0] in sub.choices, f"{command!r}: vaekit has no command {args[0]!r}"
        return
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(args)
    except SystemExit as exit:
        assert exit.code == 0 and "--help" in args, f"vaekit rejects {command!r}: {stderr.getvalue()}"


def _check_mkdocs(args: list[str], command: str) -> None:
    import click
    from mkdocs.__main__ import cli

    try:
        ctx = cli.make_context("mkdocs", list(args))
        name, sub, rest = cli.resolve_command(ctx, list(args))
        sub.make_context(name, rest, parent=ctx)
    except click.exceptions.ClickException as err:
        pytest.fail(f"mkdocs rejects {command!r}: {err.format_message()}")


def _check_python_script(args: list[str], command: str) -> None:
    """``python scripts/NAME.py OPTIONS``: the script exists and its --help lists every option shown."""
    script = ROOT / args[0]
    assert script.is_file(), f"{command}: {args[0]} does not exist"
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"{command}: {args[0]} --help failed: {done.stderr}"
    for option in (a.split("=")[0] for a in args[1:] if a.startswith("-")):
        assert re.search(rf"(^|[\s,\[]){re.escape(option)}\b", done.stdout), f"{command}: no option {option}"


def _check_pip(args: list[str], command: str) -> None:
    assert args[:2] == ["install", "-e"], f"unexpected pip command {command!r}"
    target = args[2]
    match = re.fullmatch(r"\.(?:\[(\w+(?:,\w+)*)\])?", target)
    assert match, f"{command}: install the kit itself, '.' or '.[extra]'"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("optional-dependencies", {})
    for extra in (match[1] or "").split(","):
        assert not extra or extra in extras, f"{command}: pyproject.toml has no extra {extra!r}"


def test_a_documented_grader_command_runs_for_real():
    """``pytest grader -m ex1_1``, as the exercise page shows it, on the reference solutions: full marks."""
    assert "pytest grader -m ex1_1" in COMMANDS
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "grader", "-m", "ex1_1", "--target", "solutions", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "VAE course kit: score" in done.stdout and "1.1" in done.stdout


def test_inline_commands_are_found():
    """The prose's inline commands are part of the checks above (guards the scanner against finding none)."""
    found = {cmd for page in pages() for _, cmd in inline_commands(page)}
    assert {"bash scripts/grade.sh", "pytest grader"} <= found


def test_block_ids_are_unique():
    ids = [b.id for b in BLOCKS]
    assert len(ids) == len(set(ids))
    assert all(rel(p).endswith(".md") for p in pages())
