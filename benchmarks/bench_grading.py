"""Wall time of grading: one submission of both tracks, and a class of N submissions on all cores.

    .venv/bin/python benchmarks/bench_grading.py            # 1 submission, then a class of 50, 2 at a time
    .venv/bin/python benchmarks/bench_grading.py --n 6      # a quicker class

Every submission is a copy of the reference solutions (both tracks, hidden tests included), graded as
``vaekit grade`` / ``vaekit grade-class`` grade them: a judge process per submission, the graded code in
bubblewrap-sandboxed workers. Targets on 2 cores: one submission <= 15 s; 50 submissions <= 10 min.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=50, help="submissions in the class (default 50)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once (default: cores)")
    args = p.parse_args()

    from vaekit.grading.classroom import grade_class
    from vaekit.grading.judge import GradingOptions, grade

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"== grading benchmark: {os.cpu_count()} cores, load average {load}")
    import subprocess

    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "grader", "--target", "solutions", "-q",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    print(f"   pytest grader --target solutions (both tracks, as a student runs it): {seconds:.1f} s "
          f"(target <= 8 s); exit status {proc.returncode}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one = shutil.copytree(ROOT / "solutions", tmp / "one", ignore=shutil.ignore_patterns("__pycache__"))
        start = time.perf_counter()
        result = grade(one, GradingOptions())
        seconds = time.perf_counter() - start
        score, possible = result.board.total()
        print(f"   one submission, both tracks ({len(result.board.tests)} tests): {seconds:.1f} s "
              f"(target <= 15 s); score {score:g} / {possible:g}")

        class_dir = tmp / "class"
        for i in range(args.n):
            shutil.copytree(one, class_dir / f"student{i:03d}")
        start = time.perf_counter()
        rows = grade_class(class_dir, tmp / "out", GradingOptions(), jobs=args.jobs, progress=lambda line: None)
        seconds = time.perf_counter() - start
        full = sum(r.score == r.max_score for r in rows)
        per = seconds / max(1, args.n)
        print(f"   {args.n} submissions, {args.jobs} at a time: {seconds:.1f} s ({per:.1f} s each; "
              f"{per * 50 / 60:.1f} min for 50, target <= 10 min); {full} of {len(rows)} with full marks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
