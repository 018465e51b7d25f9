"""Helpers shared by the docs tests (tests/test_docs_*.py): find the pages, read their code blocks, build the site.

A fenced code block is executed or checked by tests/test_docs_snippets.py. To show a block that cannot run
(there should be very few), put ``<!-- snippet: skip <reason> -->`` on the line just before its fence. A
``text`` block that follows a ``python`` block (only blank lines between, same indentation) is that snippet's
output, and the test checks that the snippet prints exactly that.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"
VENDOR = DOCS / "assets" / "vendor"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)(?P<rest>.*)$")
_SKIP = re.compile(r"<!--\s*snippet:\s*skip\b\s*(?P<reason>.*?)\s*-->")
_INLINE_CODE = re.compile(r"(?<!`)`(?P<code>[^`\n]+)`(?!`)")
COMMAND_PREFIXES = ("pytest ", "vaekit ", "python -m ", "bash ", "mkdocs ", "pip ")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: str  # path relative to docs/, e.g. "theory/decoder.md"
    line: int  # 1-based line of the opening fence
    lang: str
    code: str  # dedented
    skip: str | None  # the reason given in a preceding <!-- snippet: skip ... --> comment, else None
    indent: str = ""
    end: int = 0  # 1-based line of the closing fence
    output: str | None = None  # the text block shown as this python block's output, if any

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[Path]:
    """Every Markdown page of the site (the vendored assets excluded)."""
    return sorted(p for p in DOCS.rglob("*.md") if VENDOR not in p.parents and (DOCS / "includes") not in p.parents)


def rel(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


def code_blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a page, including those indented inside tabs and admonitions."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            closing = _FENCE.match(lines[i])
            if closing and closing["fence"].startswith(fence) and not closing["lang"] and not closing["rest"].strip():
                break
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        else:
            raise ValueError(f"{rel(page)}:{start + 1}: code block is never closed")
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        skip = _SKIP.search(previous)
        blocks.append(
            Block(rel(page), start + 1, m["lang"].lower(), "\n".join(body) + "\n", skip["reason"] if skip else None,
                  indent, i + 1)
        )
        i += 1
    for n, (block, nxt) in enumerate(zip(blocks, blocks[1:])):
        between = lines[block.end : nxt.line - 1]
        if (block.lang == "python" and nxt.lang == "text" and nxt.indent == block.indent
                and all(not line.strip() for line in between)):
            blocks[n] = replace(block, output=nxt.code)
    return blocks


def prose_lines(page: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code blocks."""
    fenced: set[int] = set()
    for block in code_blocks(page):
        n = len(block.code.splitlines())
        fenced.update(range(block.line, block.line + n + 2))
    text = page.read_text(encoding="utf-8").splitlines()
    return [(n, line) for n, line in enumerate(text, start=1) if n not in fenced]


def inline_commands(page: Path) -> list[tuple[int, str]]:
    """Inline code spans in the prose that are shell commands (start with pytest, vaekit, bash, ...)."""
    found = []
    for n, line in prose_lines(page):
        for m in _INLINE_CODE.finditer(line):
            code = m["code"].strip()
            if code.startswith(COMMAND_PREFIXES):
                found.append((n, code))
    return found


def shell_commands(code: str) -> list[str]:
    """The commands of a bash block: comments and blank lines dropped, ``\\`` continuations joined."""
    commands: list[str] = []
    pending = ""
    for raw in code.splitlines():
        line = raw.strip()
        if line.startswith("$ "):
            line = line[2:]
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        commands.append((pending + line).strip())
        pending = ""
    if pending:
        commands.append(pending.strip())
    return commands


def build_site(site_dir: Path) -> subprocess.CompletedProcess:
    """Run ``mkdocs build --strict`` into ``site_dir``; returns the finished process (output captured)."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(MKDOCS_YML), "--site-dir", str(site_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # keep the output to the build's own messages
    )

