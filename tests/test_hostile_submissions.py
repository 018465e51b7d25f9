"""A class with hostile submissions (tests/hostile_attacks.py) and two honest ones, graded by ``grade-class``.

Each attack must get exactly the grade its honest work deserves, the honest classmates keep full marks, the kit
(and the virtualenv) are byte-identical afterwards, no process of an attacker is alive once grading is over,
the reports do not change afterwards, and nothing of the judge (its environment, the hidden tests' source)
reaches a report. These are the guarantees of the judge/worker split with the worker in bubblewrap, so the
module needs bwrap; CI installs it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest

from grader.sandbox import bwrap_works
from tests.calibration import scaled
from tests.hostile_attacks import ATTACKS, LAYOUT_ATTACKS, Attack
from vaekit.registry import EXERCISES
from vaekit.grading.classroom import grade_class
from vaekit.grading.judge import GradingOptions

ROOT = Path(__file__).resolve().parents[1]
KL_BODY = "    return 0.5 * np.sum(mu**2 + np.exp(log_var) - log_var - 1.0, axis=-1)\n"
GRADED = "1.1,3.1,4.1"  # 3.1 is attacked; 1.1 and 4.1 are graded before and after it
TOTAL = sum(EXERCISES[i].points for i in GRADED.split(","))
MARK = "vaekit-hostile-daemon"
CANARY = "judge-secret-8d1f0c"
pytestmark = pytest.mark.skipif(not bwrap_works()[0], reason=f"needs the sandbox: {bwrap_works()[1]}")


def _tree_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (caches left out)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _kit_digest() -> dict[str, str]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    digest = {p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in tracked if (ROOT / p).is_file()}
    import site

    for folder in site.getsitepackages():  # .pth files run at every start of Python
        for pth in sorted(Path(folder).glob("*.pth")):
            digest[str(pth)] = hashlib.sha256(pth.read_bytes()).hexdigest()
    return digest


def _attackers_alive() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if MARK in cmdline:
            found.append(f"{entry.name}: {cmdline[:80]}")
    return found


def _fill(code: str, values: dict) -> str:
    for key, value in values.items():
        code = code.replace("{" + key + "}", str(value))
    return code


def _plant(dest: Path, attack: Attack, values: dict) -> Path:
    if attack.where == "kl":
        shutil.copytree(ROOT / "solutions", dest, ignore=shutil.ignore_patterns("__pycache__"))
        kl = dest / "numpy_ag" / "kl.py"
        text = kl.read_text()
        assert text.count(KL_BODY) == 1, "the KL solution changed: update KL_BODY"
        kl.write_text(text.replace(KL_BODY, _fill(attack.code, values)))
    else:
        shutil.copytree(ROOT / "exercises", dest, ignore=shutil.ignore_patterns("__pycache__"))
        init = dest / "numpy_ag" / "__init__.py"
        init.write_text(init.read_text() + "\n" + _fill(attack.code, values))
    return dest


def _plant_layout(folder: Path, name: str) -> Path:
    """The submissions whose form is the attack."""
    if name == "track_is_symlink_to_solutions":
        (folder / name).mkdir()
        (folder / name / "numpy_ag").symlink_to(ROOT / "solutions" / "numpy_ag")
        return folder / name
    if name == "file_is_symlink":
        dest = shutil.copytree(ROOT / "exercises", folder / name)
        (dest / "numpy_ag" / "kl.py").unlink()
        (dest / "numpy_ag" / "kl.py").symlink_to(ROOT / "solutions" / "numpy_ag" / "kl.py")
        return dest
    if name == "zip_with_symlink":
        path = folder / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            info = zipfile.ZipInfo("exercises/numpy_ag/kl.py")
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, str(ROOT / "solutions" / "numpy_ag" / "kl.py"))
        return path
    if name == "deep_nesting":
        deep = folder / name
        for i in range(40):
            deep = deep / f"d{i}"
        deep.mkdir(parents=True)
        (deep / "kl.py").write_text("x = 1\n")
        return folder / name
    if name == "too_many_files":
        dest = shutil.copytree(ROOT / "exercises", folder / name)
        for i in range(5001):
            (dest / f"junk{i}.txt").write_text("")
        return dest
    if name == "not_a_zip":
        path = folder / f"{name}.zip"
        path.write_bytes(b"PK\x03\x04 not really a zip")
        return path
    raise KeyError(name)


class Listener:
    """A TCP server on the host's loopback that counts connections (an attack must not reach it)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.5)
        self.port, self.connections, self.stop = self.sock.getsockname()[1], 0, False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    subs, out = tmp / "submissions", tmp / "out"
    subs.mkdir()
    honest_a = shutil.copytree(ROOT / "solutions", subs / "honest_a", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solutions", subs / "honest_z", ignore=shutil.ignore_patterns("__pycache__"))
    listener = Listener()
    values = {"KIT": ROOT, "OUT": out, "PEER": honest_a, "MARK": MARK, "PORT": listener.port}
    for attack in ATTACKS:
        _plant(subs / f"attacker_{attack.name}", attack, values)
    for name in LAYOUT_ATTACKS:
        _plant_layout(subs, name)
    peer_before = _tree_digest(honest_a)
    kit_before = _kit_digest()
    os.environ["VAEKIT_CANARY"] = CANARY  # in the judge's environment: must never reach a worker or a report
    try:
        opts = GradingOptions(exercises=GRADED, test_timeout=scaled(1.5), total_timeout=scaled(60.0), memory_gb=3.0,
                              output_mb=20)
        started = time.monotonic()
        rows = {r.student: r for r in grade_class(subs, out, opts, jobs=2, progress=lambda line: None)}
        seconds = time.monotonic() - started
    finally:
        os.environ.pop("VAEKIT_CANARY", None)
    alive = _attackers_alive()
    reports_before = _tree_digest(out)
    time.sleep(3)  # a surviving daemon would rewrite the reports now
    listener.close()
    return {"rows": rows, "out": out, "seconds": seconds, "alive": alive, "reports_before": reports_before,
            "reports_after": _tree_digest(out), "kit_before": kit_before, "kit_after": _kit_digest(),
            "peer_before": peer_before, "peer_after": _tree_digest(honest_a), "connections": listener.connections}


def _plain(graded, student) -> dict:
    return json.loads((graded["out"] / "results" / f"{student}.plain.json").read_text())


def test_there_are_at_least_thirty_attacks_across_every_class():
    kinds = {a.kind for a in ATTACKS}
    assert len(ATTACKS) + len(LAYOUT_ATTACKS) >= 30
    assert kinds == {"forge", "reach", "memory", "sabotage", "signal", "survive", "rewrite", "leak", "exhaust",
                     "malformed"}


def test_honest_classmates_keep_full_marks(graded):
    for student in ("honest_a", "honest_z"):
        row = graded["rows"][student]
        assert row.score == row.max_score == TOTAL, (student, row)


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.expect == "zero"], ids=lambda a: a.name)
def test_attacks_on_untouched_stubs_earn_nothing(graded, attack):
    row = graded["rows"][f"attacker_{attack.name}"]
    assert row.score == 0.0 and row.max_score == TOTAL, row


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.expect == "kl_lost"], ids=lambda a: a.name)
def test_an_attacking_kl_loses_its_points_and_nothing_else(graded, attack):
    student = f"attacker_{attack.name}"
    row = graded["rows"][student]
    assert row.exercises["1.1"] == EXERCISES["1.1"].points and row.exercises["4.1"] == EXERCISES["4.1"].points, row
    assert row.exercises["3.1"] < EXERCISES["3.1"].points, row
    kl = [t for e in _plain(graded, student)["exercises"] if e["id"] == "3.1" for t in e["tests"]]
    assert kl and all(t["verdict"] in attack.verdicts for t in kl if t["verdict"] != "passed"), kl
    honest = _plain(graded, "honest_a")
    assert sum(len(e["tests"]) for e in _plain(graded, student)["exercises"]) == sum(
        len(e["tests"]) for e in honest["exercises"]), "tests went missing from the attacker's report"
    if attack.keyword:
        assert any(attack.keyword.lower() in t["message"].lower() for t in kl), [t["message"] for t in kl]


@pytest.mark.parametrize("name", LAYOUT_ATTACKS)
def test_malformed_submissions_are_refused_with_a_reason(graded, name):
    row = graded["rows"][name]
    assert row.score == 0.0 and row.status.startswith("not graded"), row
    reason = {"track_is_symlink_to_solutions": "symbolic link", "file_is_symlink": "symbolic link",
              "zip_with_symlink": "symbolic link", "deep_nesting": "deep", "too_many_files": "more than",
              "not_a_zip": "not a readable zip"}[name]
    assert reason in row.status, row.status


def test_the_kit_the_venv_and_the_classmates_are_untouched(graded):
    changed = {k for k in graded["kit_before"].keys() | graded["kit_after"].keys()
               if graded["kit_before"].get(k) != graded["kit_after"].get(k)}
    assert not changed, sorted(changed)
    assert graded["peer_before"] == graded["peer_after"]
    assert not Path("/tmp/pwned-by-pth").exists()


def test_no_attacker_process_outlives_grading(graded):
    assert graded["alive"] == []
    assert _attackers_alive() == []


def test_reports_do_not_change_after_the_run(graded):
    assert graded["reports_before"] == graded["reports_after"]
    rows = list(csv.DictReader((graded["out"] / "gradebook.csv").open()))
    assert len(rows) == len(graded["rows"])
    assert not (graded["out"] / "results.json").exists() and not (graded["out"] / "results" / "attacker.json").exists()


def test_nothing_of_the_judge_reaches_a_report(graded):
    hidden_source = [line.strip() for path in (ROOT / "grader" / "hidden").rglob("*.py")
                     for line in path.read_text().splitlines() if len(line.strip()) > 40 and "def " not in line]
    for path in (graded["out"] / "results").glob("*.json"):
        text = path.read_text()
        assert CANARY not in text, path.name
        assert str(ROOT / "grader") not in text, path.name
        leaked = [line for line in hidden_source if line in text]
        assert not leaked, (path.name, leaked[:3])


def test_no_connection_left_the_sandbox(graded):
    assert graded["connections"] == 0


def test_reaching_for_the_reference_gets_nothing(graded):
    for name in ("read_reference_data", "read_other_processes", "exec_reference_solution"):
        text = (graded["out"] / "results" / f"attacker_{name}.json").read_text()
        assert "FOUND-REFERENCE" not in text and "kl/random" not in text
