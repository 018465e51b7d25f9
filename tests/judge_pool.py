"""A judge that grades many copies in one process: ``python -m tests.judge_pool`` reads jobs on stdin.

Each job is one JSON line ``{"args": [pytest arguments ...], "report": path}``; the process runs
``pytest.main(args)`` for it (the graded code still runs in its own worker, one per copy, exactly as in
``pytest grader``) and answers ``{"report": path, "exit": code}``. Running the judge once per copy costs a
Python start-up, the import of torch and the collection of the grader every time; the planted-bug suite grades
hundreds of copies, so it keeps two of these processes busy instead (see tests/mutants.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys


def main() -> int:
    import pytest

    for line in sys.stdin:
        job = json.loads(line)
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = pytest.main(job["args"])
        print(json.dumps({"report": job["report"], "exit": int(code), "tail": out.getvalue()[-3000:]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
