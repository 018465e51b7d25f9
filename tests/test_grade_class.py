"""``vaekit grade-class``: four tiny submissions, one of them hanging and one a broken zip, graded two at a time.

The good ones get full marks whatever their form (folder, or zip of a folder), the hanging one loses only
the hanging exercise, the broken zip gets a row saying why, and every graded student has a results JSON.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

from tests.calibration import scaled
from vaekit.cli import main

ROOT = Path(__file__).resolve().parents[1]
KL_BODY = "    return 0.5 * np.sum(mu**2 + np.exp(log_var) - log_var - 1.0, axis=-1)"


def _copy_solutions(dest: Path) -> Path:
    shutil.copytree(ROOT / "solutions", dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _class_folder(tmp: Path) -> Path:
    subs = tmp / "submissions"
    subs.mkdir()
    _copy_solutions(subs / "ada")
    zipped = _copy_solutions(tmp / "bob_src" / "exercises")  # a zip whose code sits one folder down
    with zipfile.ZipFile(subs / "bob.zip", "w") as zf:
        for path in zipped.rglob("*.py"):
            zf.write(path, path.relative_to(tmp / "bob_src"))
    kl = _copy_solutions(subs / "cy") / "numpy_ag" / "kl.py"
    kl.write_text(kl.read_text().replace(KL_BODY, "    while True:\n        pass"))
    (subs / "dee.zip").write_bytes(b"PK\x03\x04 this is not really a zip file")
    return subs


def test_grade_class_writes_a_gradebook_despite_a_hanging_and_a_broken_submission(tmp_path, capsys):
    subs, out = _class_folder(tmp_path), tmp_path / "out"
    code = main(["grade-class", str(subs), str(out), "--jobs", "2", "--exercises", "1.2,3.1", "--timeout",
                 str(scaled(1.5)), "--total-timeout", str(scaled(60))])
    assert code == 0
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert set(rows) == {"ada", "bob", "cy", "dee"}
    for student in ("ada", "bob"):
        assert float(rows[student]["score"]) == 4.0 and rows[student]["status"].startswith("graded"), rows[student]
    assert float(rows["cy"]["1.2"]) == 1.0 and float(rows["cy"]["3.1"]) == 0.0
    assert float(rows["dee"]["score"]) == 0.0 and "not a readable zip" in rows["dee"]["status"]
    assert all(float(r["max_score"]) == 4.0 for r in rows.values())
    cy = json.loads((out / "results" / "cy.json").read_text())
    kl = [t for t in cy["tests"] if t["tags"][0] == "ex3_1"]
    assert kl and all(t["status"] == "failed" and "did not finish within" in t["output"] for t in kl)
    assert sorted(p.name for p in (out / "results").glob("*.json")) == [
        "ada.json", "ada.plain.json", "bob.json", "bob.plain.json", "cy.json", "cy.plain.json"]
    assert "dee: 0 / 4" in capsys.readouterr().out


def test_an_interrupted_class_run_resumes_without_regrading(tmp_path, capsys):
    subs, out = tmp_path / "submissions", tmp_path / "out"
    subs.mkdir()
    _copy_solutions(subs / "ada")
    kl = _copy_solutions(subs / "cy") / "numpy_ag" / "kl.py"
    kl.write_text(kl.read_text().replace(KL_BODY, "    return 0.5 * np.sum(mu**2, axis=-1)"))
    args = ["grade-class", str(subs), str(out), "--exercises", "3.1", "--timeout", "20"]
    assert main(args) == 0
    first = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.plain.json")}
    (out / "results" / "cy.plain.json").unlink()  # as if the run had stopped before cy was graded
    capsys.readouterr()
    assert main(args) == 0
    assert (out / "results" / "ada.plain.json").stat().st_mtime_ns == first["ada.plain.json"]  # kept
    assert (out / "results" / "cy.plain.json").exists()  # graded again
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert float(rows["ada"]["score"]) == 3.0 and float(rows["cy"]["score"]) < 3.0
    kl.write_text(kl.read_text().replace("0.5 * np.sum(mu**2, axis=-1)", KL_BODY.strip()[len("return "):]))
    assert main(args) == 0  # cy changed its submission: graded again, ada still kept
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert float(rows["cy"]["score"]) == 3.0
    assert (out / "results" / "ada.plain.json").stat().st_mtime_ns == first["ada.plain.json"]
    assert main([*args, "--regrade"]) == 0
    assert (out / "results" / "ada.plain.json").stat().st_mtime_ns != first["ada.plain.json"]


def test_grade_class_refuses_a_missing_folder(tmp_path, capsys):
    assert main(["grade-class", str(tmp_path / "nope"), str(tmp_path / "out")]) == 2
    assert "not a folder of submissions" in capsys.readouterr().err
