"""What ``vaekit train`` sets up for speed computes the same thing: glibc keeps freed memory (fewer page
faults, same numbers), and the PyTorch trainer's fused Adam makes the update of ``torch.optim.Adam``."""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from vaekit.training.config import TrainConfig
from vaekit.training.memory import keep_freed_memory

# Ten temporaries of 2.6 MB made and freed together, as in one Adam step of the 784-400-20 model; the number of
# page faults that 20 such rounds cost after a warm-up one.
ROUNDS = textwrap.dedent("""
    import resource, sys
    import numpy as np
    if sys.argv[1] == "keep":
        from vaekit.training.memory import keep_freed_memory
        assert keep_freed_memory()
    theta = np.ones(648_024, dtype=np.float32)
    def one_round():
        temporaries = [theta * np.float32(k) for k in range(10)]
        del temporaries
    one_round()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        one_round()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def page_faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", ROUNDS, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_keep_freed_memory_stops_the_page_faults_of_large_temporaries():
    if not keep_freed_memory():
        pytest.skip("this C library has no mallopt (not glibc): keep_freed_memory does nothing here")
    assert keep_freed_memory()  # a second call is harmless
    pages_per_round = 10 * 648_024 * 4 // 4096
    default, kept = page_faults("default"), page_faults("keep")
    assert default > 5 * pages_per_round, f"glibc's default gave only {default} page faults in 20 rounds"
    assert kept < pages_per_round, f"{kept} page faults in 20 rounds with the freed memory kept"


def images(n=48, seed=0):
    return np.random.default_rng(seed).random((n, 784), dtype=np.float32)


def test_pytorch_trainer_makes_the_updates_of_default_adam():
    import torch

    from solutions.pytorch import train
    from vaekit.training.pytorch import Trainer, fused_adam_available

    config = TrainConfig(track="pytorch", code="solutions", hidden=(16,), latent_dim=2, batch_size=8, seed=3)
    trainer = Trainer(config)
    assert trainer.adam_fused == fused_adam_available(torch.device("cpu"))
    assert bool(trainer.optimizer.param_groups[0]["fused"]) == trainer.adam_fused
    model, initial = copy.deepcopy(trainer.model), copy.deepcopy(trainer.model)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, foreach=False, fused=False)
    generator = torch.Generator().manual_seed(config.seed)
    x = images()
    for _ in range(3):
        got = trainer.train_epoch(x)
        want = train.train_epoch(model, optimizer, torch.from_numpy(x), generator, config.batch_size)
        assert got == pytest.approx(want, rel=1e-5)
    for (name, p), q in zip(trainer.model.named_parameters(), model.parameters()):
        assert p.dtype == torch.float32
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
    assert all(not torch.equal(p, q) for p, q in zip(trainer.model.parameters(), initial.parameters()))


def test_pytorch_trainer_resumes_a_checkpoint_of_default_adam(tmp_path):
    import torch

    from vaekit.training.pytorch import Trainer

    config = TrainConfig(track="pytorch", code="solutions", hidden=(16,), latent_dim=2, batch_size=8, seed=1)
    old = Trainer(config)  # a run made with the default (unfused) Adam, as older versions of the kit saved it
    old.optimizer = torch.optim.Adam(old.model.parameters(), lr=config.lr, foreach=False, fused=False)
    old.train_epoch(images(seed=1))
    path = old.save_checkpoint(tmp_path / "checkpoint.pt", 1)

    resumed = Trainer(config)
    assert resumed.load_checkpoint(path) == 1
    assert bool(resumed.optimizer.param_groups[0]["fused"]) == resumed.adam_fused
    loss_resumed = resumed.train_epoch(images(seed=2))
    loss_old = old.train_epoch(images(seed=2))
    assert loss_resumed == pytest.approx(loss_old, rel=1e-5)
    for p, q in zip(resumed.model.parameters(), old.model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-4, atol=1e-6)
