"""Hostile submissions: what a student who has read the grader's source might hand in.

Each attack is a copy of the reference solutions with the body of ``kl_to_standard_normal`` (Exercise 3.1)
replaced (``where="kl"``), or the untouched stubs with code added to ``numpy_ag/__init__.py``, which runs when
any module of the track is imported (``where="init"``). ``expect`` says what honest grading gives it:

* ``"kl_lost"``: Exercise 3.1 loses points; 1.1 and 4.1 (graded before and after it) keep full marks;
* ``"zero"``: no points at all (the stubs are not attempted, whatever the attack does);
* ``"refused"``: the submission is not graded at all, with a reason.

``{KIT}``, ``{OUT}``, ``{PEER}``, ``{MARK}`` and ``{PORT}`` are filled in by the tests: the kit's folder, the
class's output folder, an honest classmate's submission, a marker that names the attacker's processes, and a
port the test listens on.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str  # forge | reach | memory | sabotage | signal | survive | rewrite | leak | exhaust | malformed
    where: str  # "kl" (the KL body of a solutions copy), "init" (numpy_ag/__init__.py of a stubs copy), "layout"
    code: str
    expect: str  # "kl_lost" | "zero" | "refused"
    verdicts: frozenset = field(default_factory=frozenset)  # allowed verdicts of the KL tests (kl attacks)
    keyword: str = ""  # in at least one KL test message (kl attacks) or in the refusal (layout attacks)


WRONG_KL = "    return 0.5 * np.sum(mu**2, axis=-1)\n"
DAEMON = """
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        loop = "import os, time\\nfor _ in range(40):\\n    time.sleep(0.25)\\n    ACTION\\n"
        os.execv(sys.executable, [sys.executable, "-c", loop, "{MARK}"])
    os._exit(0)
"""
REWRITE = ("[open(p, 'w').write('forged') for p in ('{OUT}/gradebook.csv', '{OUT}/results/attacker.json') "
           "if os.path.isdir(os.path.dirname(p))]")

ATTACKS = [
    # --- forging verdicts, records or replies ------------------------------------------------------------------
    Attack("patch_grader_modules", "forge", "init", """
try:
    import grader.scoring, grader.harness
    grader.scoring.verdict_of = lambda *a, **k: ("passed", "")
    grader.harness.check_close = lambda *a, **k: None
except Exception:
    pass
""", "zero"),
    Attack("patch_numpy_in_worker", "forge", "kl", """    import numpy
    numpy.allclose = lambda *a, **k: True
    numpy.isclose = lambda *a, **k: True
    numpy.abs = lambda x: 0 * x
""" + WRONG_KL, "kl_lost", frozenset({"failed"}), "wrong value"),
    Attack("forge_reply_on_channel", "forge", "kl", """    import os, json, struct
    for fd in range(3, 64):
        try:
            msg = json.dumps({"ok": {"result": 0.0}}).encode()
            os.write(fd, struct.pack('>I', len(msg)) + msg)
        except OSError:
            pass
""" + WRONG_KL, "kl_lost", frozenset({"failed", "error"})),
    Attack("garbage_on_channel", "forge", "init", """
import os
for fd in range(3, 64):
    try:
        os.write(fd, b'\\xff' * 64)
    except OSError:
        pass
""", "zero"),
    Attack("write_results_everywhere", "forge", "init", """
import os, json
forged = json.dumps({"score": 101, "exercises": [], "tests": []})
for base in ("/tmp", "/", "/submission", "{OUT}", "{OUT}/results", "{KIT}"):
    for name in ("results.json", "gradebook.csv", "attacker.json", "attacker.plain.json"):
        try:
            with open(os.path.join(base, name), "w") as f:
                f.write(forged)
        except OSError:
            pass
""", "zero"),
    Attack("array_looks_for_expected_on_stack", "forge", "kl", """    import sys
    class Sly:
        def __array__(self, dtype=None, copy=None):
            frame = sys._getframe()
            while frame is not None:
                if 'expected' in frame.f_locals:
                    return numpy.asarray(frame.f_locals['expected'])
                frame = frame.f_back
            return numpy.zeros(len(mu))
    import numpy
    return Sly()
""", "kl_lost", frozenset({"failed", "error"})),
    Attack("equal_to_everything", "forge", "kl", """    class Yes(float):
        def __eq__(self, other): return True
        def __lt__(self, other): return False
        def __gt__(self, other): return False
        def __le__(self, other): return True
        def __ge__(self, other): return True
    return [Yes(0.0)] * len(mu)
""", "kl_lost", frozenset({"failed", "error"})),
    # --- reaching the reference solutions or data -------------------------------------------------------------
    Attack("read_reference_data", "reach", "init", """
import os, sys
for path in ("{KIT}/grader/reference.npz", "/proc/1/cwd/grader/reference.npz", "../grader/reference.npz",
             "/submission/../grader/reference.npz", "/proc/self/cwd/grader/reference.npz"):
    try:
        data = open(path, "rb").read()
        print("FOUND-REFERENCE", path, len(data))
        raise SystemExit("reached the reference data")
    except OSError:
        pass
""", "zero"),
    Attack("exec_reference_solution", "reach", "kl", """    for path in ("{KIT}/solutions/numpy_ag/kl.py", "/proc/1/cwd/solutions/numpy_ag/kl.py"):
        try:
            scope = {}
            exec(open(path).read(), scope)
            return scope["kl_to_standard_normal"](mu, log_var)
        except OSError:
            pass
""" + WRONG_KL, "kl_lost", frozenset({"failed"})),
    Attack("import_solutions_package", "reach", "kl", """    try:
        from solutions.numpy_ag.kl import kl_to_standard_normal as f
        return f(mu, log_var)
    except ImportError:
        pass
    try:
        import grader.reference
        return grader.reference.reference("kl/random").outputs["value"]
    except ImportError:
        pass
""" + WRONG_KL, "kl_lost", frozenset({"failed"})),
    Attack("search_filesystem_for_solutions", "reach", "kl", """    import os
    for top in ("/", "/work", "/root", "/home", "/opt", "/srv"):
        for here, dirs, files in os.walk(top):
            if here.count("/") > 6:
                dirs[:] = []
            if "kl.py" in files and "solutions" in here:
                scope = {}
                exec(open(os.path.join(here, "kl.py")).read(), scope)
                return scope["kl_to_standard_normal"](mu, log_var)
""" + WRONG_KL, "kl_lost", frozenset({"failed"})),
    # --- reading the judge's memory or stack ------------------------------------------------------------------
    Attack("read_other_processes", "memory", "kl", """    import os
    for pid in os.listdir('/proc'):
        if pid.isdigit() and int(pid) != os.getpid():
            for part in ('environ', 'cmdline', 'mem', 'maps'):
                try:
                    print('PEEK', pid, part, open(f'/proc/{pid}/{part}', 'rb').read(200))
                except OSError:
                    pass
""" + WRONG_KL, "kl_lost", frozenset({"failed"})),
    Attack("walk_frames_for_reference", "memory", "kl", """    import gc, sys
    for obj in gc.get_objects():
        if isinstance(obj, dict) and 'kl/random:out:value' in obj:
            return obj['kl/random:out:value']
""" + WRONG_KL, "kl_lost", frozenset({"failed"})),
    # --- sabotaging classmates or the kit ---------------------------------------------------------------------
    Attack("overwrite_kit_and_peer", "sabotage", "init", """
import os
targets = ["{KIT}/grader/reference.npz", "{KIT}/grader/conftest.py", "{PEER}/numpy_ag/kl.py",
           "{KIT}/solutions/numpy_ag/kl.py", "{KIT}/exercises/numpy_ag/kl.py"]
for path in targets:
    try:
        with open(path, "w") as f:
            f.write("raise SystemExit('sabotaged')")
    except OSError:
        pass
""", "zero"),
    Attack("drop_pth_into_venv", "sabotage", "init", """
import os, site, sys
for folder in site.getsitepackages() + [os.path.join(sys.prefix, 'lib')]:
    try:
        with open(os.path.join(folder, 'zz_pwned.pth'), 'w') as f:
            f.write('import os; os.system("touch /tmp/pwned-by-pth")\\n')
    except OSError:
        pass
""", "zero"),
    Attack("delete_what_it_can", "sabotage", "init", """
import os, shutil
for path in ("{KIT}/grader", "{PEER}", "{OUT}", "/submission/pytorch"):
    shutil.rmtree(path, ignore_errors=True)
""", "zero"),
    # --- signalling the judge ----------------------------------------------------------------------------------
    Attack("stop_parent", "signal", "kl", """    import os, signal
    for target in (os.getppid(), 1):
        try:
            os.kill(target, signal.SIGSTOP)
        except OSError:
            pass
""" + WRONG_KL, "kl_lost", frozenset({"failed", "error", "timeout"})),
    Attack("kill_everything", "signal", "kl", """    import os, signal
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
""" + WRONG_KL, "kl_lost", frozenset({"error", "failed"})),
    # --- surviving the run, rewriting reports afterwards ------------------------------------------------------
    Attack("daemon_survives", "survive", "init", DAEMON.replace("ACTION", "pass"), "zero"),
    Attack("daemon_rewrites_reports", "rewrite", "init", DAEMON.replace("ACTION", REWRITE), "zero"),
    # --- leaking hidden tests or the environment --------------------------------------------------------------
    Attack("print_environment", "leak", "kl", """    import os
    print(dict(os.environ))
""" + WRONG_KL, "kl_lost", frozenset({"failed"})),
    Attack("raise_with_traceback", "leak", "kl", """    import traceback
    raise RuntimeError("stack: " + "".join(traceback.format_stack()))
""", "kl_lost", frozenset({"error", "failed"}), "RuntimeError"),
    Attack("read_hidden_tests", "leak", "kl", """    import glob
    for path in glob.glob("{KIT}/grader/hidden/**/*.py", recursive=True):
        raise RuntimeError(open(path).read())
""" + WRONG_KL, "kl_lost", frozenset({"failed"})),
    # --- resource exhaustion ----------------------------------------------------------------------------------
    Attack("endless_loop", "exhaust", "kl", "    while True:\n        pass\n", "kl_lost", frozenset({"timeout"}),
           "did not finish within"),
    Attack("loop_ignoring_signals", "exhaust", "kl", """    import signal
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(s, signal.SIG_IGN)
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
""", "kl_lost", frozenset({"timeout"}), "did not finish within"),
    Attack("memory_hog", "exhaust", "kl", """    import numpy
    hog = numpy.ones(2**31)  # 16 GB
    return hog[:len(mu)]
""", "kl_lost", frozenset({"error"}), "memory"),
    Attack("memory_fan_out", "exhaust", "kl", """    import os
    for _ in range(4):  # four processes of 1 GB each: each under the per-process limit, together over it
        if os.fork() == 0:
            block = bytearray(2**30)
            block[::4096] = b"x" * len(block[::4096])
            import time
            time.sleep(30)
            os._exit(0)
""" + WRONG_KL, "kl_lost", frozenset({"failed", "error"})),
    Attack("fork_bomb", "exhaust", "kl", """    import os
    children = 0
    for _ in range(10000):
        try:
            if os.fork() == 0:
                import sys
                os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", "{MARK}"])
            children += 1
        except OSError:
            break
    print('forked', children)
""" + WRONG_KL, "kl_lost", frozenset({"failed", "error", "timeout"})),
    Attack("disk_filler", "exhaust", "kl", """    chunk = b"x" * 2**20
    try:
        with open("/tmp/filler", "wb") as f:
            for _ in range(4096):
                f.write(chunk)
    except OSError as err:
        print("stopped:", err)
""" + WRONG_KL, "kl_lost", frozenset({"failed", "error"})),
    Attack("print_flood", "exhaust", "kl", "    print('y' * 60_000_000)\n" + WRONG_KL, "kl_lost", frozenset({"error"}),
           "more output than the grader keeps"),
    Attack("os_exit", "exhaust", "kl", "    import os\n    os._exit(0)\n", "kl_lost", frozenset({"error"}),
           "ended during this test"),
    Attack("sys_exit", "exhaust", "kl", "    import sys\n    sys.exit(3)\n", "kl_lost", frozenset({"error"}), "sys.exit"),
    Attack("network", "exhaust", "kl", """    import socket
    try:
        socket.create_connection(("127.0.0.1", {PORT}), timeout=2).sendall(b"leak")
    except OSError:
        pass
""" + WRONG_KL, "kl_lost", frozenset({"failed"})),
    Attack("infinite_recursion", "malformed", "kl", "    return kl_to_standard_normal(mu, log_var)\n", "kl_lost",
           frozenset({"error", "failed"}), "RecursionError"),
    Attack("deeply_nested_result", "malformed", "kl", """    out = []
    for _ in range(100000):
        out = [out]
    return out
""", "kl_lost", frozenset({"error", "failed"})),
    Attack("crash_at_import", "exhaust", "init", "import os\nos._exit(1)\n", "zero"),
    Attack("crash_the_judges_verdict", "forge", "kl", "    raise NotImplementedError('Exercise')\n", "kl_lost",
           frozenset({"not attempted", "error"})),
]

# Submissions whose form is the attack: graded not at all, with a reason.
LAYOUT_ATTACKS = ("track_is_symlink_to_solutions", "file_is_symlink", "zip_with_symlink", "deep_nesting",
                  "too_many_files", "not_a_zip")
