"""Every exercise of the registry (vaekit/registry.py, read from the solution region headers) has its section on
the docs page the registry names (the page of docs/exercises/ that holds its anchor, else its track's page).

The section's heading is ``Exercise <id> — <title> {#<marker>}`` (the anchor the stubs, the grader and the score
table link to), its summary line names the functions, points and marker of the registry, and it shows the
command that runs the exercise's grader tests.
"""

from __future__ import annotations

import re

import pytest

from tests.docs_support import DOCS, ROOT
from vaekit.registry import EXERCISES

HEADING = re.compile(r"^(?P<level>#{2,4}) Exercise (?P<id>\S+) — (?P<title>.+?) \{#(?P<anchor>[\w-]+)\}\s*$", re.M)


def _page_of(ex) -> str:
    path, _, anchor = ex.docs_page.partition("#")
    assert path.startswith("docs/") and anchor == ex.marker, ex.docs_page
    return path[len("docs/"):]


def _sections(page: str) -> dict[str, tuple[re.Match, str]]:
    """Exercise ID -> (heading match, section text up to the next heading of the same or a higher level)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    headings = list(HEADING.finditer(text))
    sections = {}
    for m in headings:
        level = len(m["level"])
        end = len(text)
        for nxt in re.finditer(r"^(#{1,%d}) " % level, text[m.end():], re.M):
            end = m.end() + nxt.start()
            break
        assert m["id"] not in sections, f"{page}: two sections for Exercise {m['id']}"
        sections[m["id"]] = (m, text[m.start():end])
    return sections


EXERCISE_PAGES = sorted({_page_of(ex) for ex in EXERCISES.values()})


def test_the_registry_points_to_existing_pages():
    for page in EXERCISE_PAGES:
        assert (DOCS / page).is_file(), f"the registry names docs/{page}, which does not exist"


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_exercise_has_its_section(ex_id):
    ex = EXERCISES[ex_id]
    page = _page_of(ex)
    sections = _sections(page)
    assert ex.id in sections, f"docs/{page} has no heading 'Exercise {ex.id} — {ex.title} {{#{ex.marker}}}'"
    heading, body = sections[ex.id]
    assert heading["title"] == ex.title, f"docs/{page}: Exercise {ex.id} is titled {heading['title']!r}, not {ex.title!r}"
    assert heading["anchor"] == ex.marker, f"docs/{page}: Exercise {ex.id} has anchor #{heading['anchor']}"

    summary = next((line for line in body.split("\n\n") if line.startswith("**Implement**")), "")
    assert summary, f"docs/{page}#{ex.marker}: no '**Implement** ...' line"
    for name in ex.names:
        assert re.search(rf"`{re.escape(name)}[(`.]", summary), f"#{ex.marker} does not name {name}"
    points = re.search(r"\*\*Points\*\* ([\d.]+)", summary)
    assert points and float(points[1]) == ex.points, f"#{ex.marker}: points differ from the registry ({ex.points:g})"
    assert f"**Marker** `{ex.marker}`" in summary, f"#{ex.marker}: the summary must give the marker"
    assert f"pytest grader -m {ex.marker}" in body, f"#{ex.marker}: no command to run the exercise's tests"


def test_no_section_for_an_unknown_exercise():
    for page in sorted(p.relative_to(DOCS).as_posix() for p in (DOCS / "exercises").glob("*.md")):
        for ex_id, (heading, _) in _sections(page).items():
            assert ex_id in EXERCISES, f"docs/{page} has a section for Exercise {ex_id}, which is not in the registry"
            assert _page_of(EXERCISES[ex_id]) == page, f"Exercise {ex_id} belongs on {_page_of(EXERCISES[ex_id])}"


def test_stubs_point_to_the_sections():
    """The NotImplementedError of every stub names a docs page and anchor that exist."""
    stubs = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "exercises").rglob("*.py"))
    for ex in EXERCISES.values():
        if f"Exercise {ex.id} " in stubs or f"Exercise {ex.id})" in stubs:
            assert ex.docs_page in stubs, f"no stub links to {ex.docs_page}"
