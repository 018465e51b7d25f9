"""The judge/worker split: the channel's format, the judge never importing graded code, the sandbox modes."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.sandbox import bwrap_works
from grader.worker import wire

ROOT = Path(__file__).resolve().parents[1]


def _round_trip(value):
    raw = json.loads(json.dumps(wire.encode(value)))
    return wire.decode(raw)


def test_arrays_tensors_generators_and_containers_cross_unchanged():
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([True, False]), np.array(7, dtype=np.int64),
              np.array(["a", "bc"]), np.array([1.5 - 2j])]
    for arr in arrays:
        back = _round_trip(arr)
        assert back.dtype == arr.dtype and back.shape == arr.shape and np.array_equal(back, arr)
    t = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    back = _round_trip(t)
    assert isinstance(back, torch.Tensor) and back.dtype == torch.float64 and back.requires_grad
    assert torch.equal(back.detach(), t.detach())
    value = {"a": (1, 2.5, None, "x"), "b": [np.float32(1.5)], "c": {3: "int key"}}
    back = _round_trip(value)
    assert back["a"] == (1, 2.5, None, "x") and type(back["b"][0]) is np.float32 and back["c"] == {3: "int key"}
    rng = np.random.default_rng(5)
    assert _round_trip(rng).normal() == np.random.default_rng(5).normal()
    gen = torch.Generator().manual_seed(3)
    assert torch.equal(torch.randn(4, generator=_round_trip(gen)), torch.randn(4, generator=torch.Generator().manual_seed(3)))
    assert _round_trip(torch.float32) is torch.float32


def test_what_cannot_cross_is_described_not_sent():
    back = _round_trip(np.array([object()], dtype=object))
    assert isinstance(back, wire.Unreadable) and "object" in back.text
    assert isinstance(_round_trip(lambda x: x), wire.Unreadable)


@pytest.mark.parametrize("raw, why", [
    ({"__nd__": "AAAA", "dtype": "|O", "shape": [1]}, "dtype"),
    ({"__nd__": "AAAAAAAAAAA=", "dtype": "<f8", "shape": [3]}, "bytes"),
    ({"__pickle__": "gASVAAAA"}, "unknown tag"),
    ({"__handle__": 3}, "handle"),
    ({"__npgen__": {"bit_generator": "os.system"}}, "bit generator"),
    ({"__torchdtype__": "Tensor"}, "torch dtype"),
])
def test_the_judge_rejects_messages_that_break_the_format(raw, why):
    with pytest.raises(wire.WireError, match=why):
        wire.decode(raw)


def test_deep_structures_are_refused_both_ways():
    deep = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(wire.WireError):
        wire.encode(deep)
    raw = "x"
    for _ in range(100):
        raw = [raw]
    with pytest.raises(wire.WireError):
        wire.decode(raw)


def test_the_judge_never_imports_the_graded_code():
    script = (
        "import sys, pytest\n"
        "code = pytest.main(['grader/numpy_ag/test_kl.py', '--target', 'solutions', '-q', '-p', 'no:cacheprovider'])\n"
        "loaded = [m for m, mod in list(sys.modules.items()) if mod is not None and (m.startswith('submission') or "
        "str(getattr(mod, '__file__', '') or '').startswith(%r))]\n"
        "print('LOADED', loaded, 'EXIT', int(code))\n" % str(ROOT / "solutions"))
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "LOADED [] EXIT 0" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_without_the_sandbox_the_score_table_says_so():
    proc = subprocess.run([sys.executable, "-m", "pytest", "grader/numpy_ag/test_kl.py", "--target", "solutions",
                           "--sandbox", "off", "-q", "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "not in a sandbox" in proc.stdout


@pytest.mark.skipif(not bwrap_works()[0], reason=f"needs the sandbox: {bwrap_works()[1]}")
def test_with_the_sandbox_reports_say_so(tmp_path):
    report = tmp_path / "plain.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "grader/numpy_ag/test_kl.py", "--target", "solutions",
                           "--sandbox", "require", "--results-plain", str(report), "-q", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    data = json.loads(report.read_text())
    assert data["sandboxed"] is True and data["score"] == data["max_score"] > 0
    assert "not in a sandbox" not in proc.stdout


def test_vaekit_grade_refuses_to_grade_unsandboxed_unless_told(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on this PATH
    env.pop("VAEKIT_SANDBOX", None)
    cmd = [sys.executable, "-m", "vaekit", "grade", "solutions", "--exercises", "3.1"]
    refused = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 3 and "bubblewrap" in refused.stderr and "--unsafe" in refused.stderr
    unsafe = subprocess.run([*cmd, "--unsafe"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert unsafe.returncode == 0, unsafe.stdout[-2000:] + unsafe.stderr[-2000:]
    assert "3.00 / 3" in unsafe.stdout and "without the sandbox" in unsafe.stdout


def test_the_workers_stand_in_for_vaekit_data_is_the_kits_function():
    from grader.worker import numpy_vaekit
    from vaekit import data

    assert inspect.getsource(numpy_vaekit.minibatch_indices) == inspect.getsource(data.minibatch_indices)


def test_a_small_message_cannot_make_a_huge_structure():
    r, w = os.pipe()
    try:
        payload = b"[" + b"[]," * 300_000 + b"[]]"
        os.write(w, len(payload).to_bytes(4, "big"))
        with pytest.raises(wire.WireError, match="lists and objects"):
            import threading

            threading.Thread(target=lambda: os.write(w, payload), daemon=True).start()
            wire.receive(r)
    finally:
        os.close(r)
        os.close(w)
    with pytest.raises(wire.WireError, match="items"):
        wire.decode([[]] * (wire.MAX_ITEMS + 1))


def test_control_characters_never_reach_a_message():
    from grader.scoring import Scoreboard
    from vaekit.registry import EXERCISES

    board = Scoreboard(ROOT)
    board.add_test("grader/x.py::t", EXERCISES["3.1"])
    board.record("grader/x.py::t", "error", "your code raised ValueError: \x1b[2J\x1b[8mfake table\x07\nline two\tok")
    message = board.tests["grader/x.py::t"].message
    assert "\x1b" not in message and "\x07" not in message and "\nline two\tok" in message


def test_a_workers_cgroup_caps_the_memory_of_all_its_processes_together():
    from grader.cgroups import WorkerCgroup

    group = WorkerCgroup.create(memory_bytes=300 * 2**20, pids=16)
    if group is None:
        pytest.skip("no writable cgroup file system here (needs root); only per-process limits apply")
    try:
        # two processes of 200 MB each: each under any per-process limit, together over the group's 300 MB
        hog = ("import os, sys, time\nos.fork()\nblock = bytearray(200 * 2**20)\nblock[::4096] = b'x' * len(block[::4096])\n"
               "time.sleep(2)\nprint('survived', flush=True)\n")
        proc = subprocess.run([sys.executable, "-c", hog], preexec_fn=group.enter, timeout=120, capture_output=True,
                              text=True)
        time.sleep(3)  # the forked one, if it lives, prints before this
        assert proc.stdout.count("survived") < 2, "both 200 MB processes survived a 300 MB cap"
    finally:
        group.remove()
    assert not any(folder.exists() for folder in group.folders)


def test_a_reply_that_outruns_the_flood_kill_is_still_a_flood(tmp_path, monkeypatch):
    """A function that prints more than the grader keeps is an error whether the worker is killed before it replies
    or its reply arrives first (on a busy machine either can happen): with the kill made slow (here: never), the
    reply always arrives first, and the call must still raise WorkerFlooded, not return the function's value."""
    from grader.outcomes import WorkerFlooded
    from grader.remote import Worker, _call
    from grader.sandbox import Limits

    (tmp_path / "numpy_ag").mkdir()
    (tmp_path / "numpy_ag" / "__init__.py").write_text("")
    (tmp_path / "numpy_ag" / "chatty.py").write_text("def answer():\n    print('y' * 3_000_000)\n    return 42\n")
    worker = Worker(tmp_path, "numpy_ag", "off", Limits(), output_limit=2**20)
    try:
        monkeypatch.setattr(Worker, "kill", lambda self: None)  # the kill loses every race
        monkeypatch.setattr(Worker, "_died", lambda self: None)  # (and nothing waits for a death that never comes)
        with pytest.raises(WorkerFlooded, match="more output than the grader keeps"):
            _call(worker, {"fn": "chatty.answer"}, (), {})
        monkeypatch.undo()
        quiet = Worker(tmp_path, "numpy_ag", "off", Limits(), output_limit=2**23)
        try:
            assert _call(quiet, {"fn": "chatty.answer"}, (), {}) == 42  # under the limit, the value counts
        finally:
            quiet.stop()
    finally:
        monkeypatch.undo()
        worker.stop()


def test_a_virtualenv_under_tmp_is_visible_inside_the_sandbox(tmp_path, monkeypatch):
    """The worker's private /tmp must not hide the interpreter's environment when that lives under /tmp (a kit
    cloned into a temporary folder, as CI may do): its files are readable inside the sandbox, and /tmp stays
    writable by the worker."""
    ok, why = bwrap_works()
    if not ok:
        pytest.skip(f"needs the sandbox: {why}")
    from grader import sandbox

    env_dir = tmp_path / "venv"  # tmp_path lies under /tmp
    env_dir.mkdir()
    (env_dir / "marker.txt").write_text("seen inside\n")
    monkeypatch.setattr(sys, "prefix", str(env_dir))
    launch = sandbox.launch(tmp_path, "numpy_ag", "require", sandbox.Limits())
    argv = launch.argv[: launch.argv.index("--")]
    argv = [a for a in argv if a not in ("--clearenv",)]
    shell = f"cat {env_dir / 'marker.txt'} && touch /tmp/w && echo writable"
    done = subprocess.run([*argv, "--", "/bin/sh", "-c", shell], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["seen", "inside", "writable"], done.stdout + done.stderr
