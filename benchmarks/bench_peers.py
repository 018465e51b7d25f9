"""The kit's two tracks against a from-scratch PyTorch VAE and the bare matrix products, in one process.

    .venv/bin/python benchmarks/bench_peers.py [--data-root DIR] [--threads 1,2] [--quality-epochs 10]
                                               [--json docs/assets/results/bench_peers.json]

For each thread count (default 1 and all cores), on the same data and model size (784-400-20, batch 128, K = 1,
float32), it trains:

* ``kit-pytorch``: the PyTorch track's ``train_epoch`` (``--code``, the reference by default);
* ``kit-numpy``: the NumPy/autograd track's ``train_epoch``;
* ``baseline``: a from-scratch VAE written the way pytorch/examples writes it (fc1 784-400, fc21/fc22 400-20,
  fc3 20-400, fc4 400-784, ReLU, loss summed over the batch, ``torch.randn_like`` noise) with the continuous
  Bernoulli likelihood of ``torch.distributions``;

for ``--quality-epochs`` epochs each, taking turns epoch by epoch so that other work on the cores slows all
three alike. It prints images/s (median of the epochs after the first, which includes the warm-up), the test
ELBO at the end (every model evaluated by the same code: its weights are copied into the kit's PyTorch ``VAE``
and the PyTorch track's ``evaluate`` computes the continuous Bernoulli ELBO on the test split), and the images/s
of the bare matrix products of one step (the floor: no code that does these products can be faster), with the
ratios between them. With ``--json`` it also writes the figures and settings to that file (atomically) for the
docs' results page.
"""

from __future__ import annotations

import os
import statistics
import time

import benchlib


def build_baseline(torch, seed: int):
    """The pytorch/examples VAE architecture with a continuous Bernoulli decoder; returns (model, loss_function)."""
    from torch import nn
    from torch.nn import functional as F

    class ExamplesVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            return mu + torch.randn_like(std) * std

        def decode(self, z):
            return self.fc4(F.relu(self.fc3(z)))  # logits of the continuous Bernoulli

        def forward(self, x):
            mu, logvar = self.encode(x)
            return self.decode(self.reparameterize(mu, logvar)), mu, logvar

    def loss_function(logits, x, mu, logvar):
        log_lik = torch.distributions.ContinuousBernoulli(logits=logits).log_prob(x).sum()
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return -log_lik + kld

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ExamplesVAE(), loss_function


def train_baseline_epoch(torch, model, optimizer, loss_function, x, generator, batch_size: int) -> float:
    """One epoch as pytorch/examples trains: shuffled minibatches, summed loss, Adam; returns nats/image."""
    model.train()
    total = 0.0
    for idx in torch.split(torch.randperm(len(x), generator=generator), batch_size):
        xb = x[idx]
        optimizer.zero_grad()
        logits, mu, logvar = model(xb)
        loss = loss_function(logits, xb, mu, logvar)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(x)


def interleaved_epochs(run_epoch: dict, n_images: int, epochs: int) -> dict:
    """Images/s of each of ``epochs`` epochs of every trainer, the trainers taking turns epoch by epoch, so that
    other work on the machine slows them alike: ``{name: [images/s of epoch 1, 2, ...]}``."""
    rates = {name: [] for name in run_epoch}
    for _ in range(epochs):
        for name, run in run_epoch.items():
            t0 = time.perf_counter()
            run()
            rates[name].append(n_images / (time.perf_counter() - t0))
    return rates


LABELS = {"kit-pytorch": "kit, PyTorch track", "kit-numpy": "kit, NumPy/autograd track",
          "baseline": "from scratch (pytorch/examples layout)", "matmul-floor": "matrix products only"}


def compare(torch, np, code_torch, code_numpy, x_np, x_test, epochs: int, seed: int) -> dict:
    """Train the three models taking turns, time the floor, evaluate; returns the figures of one thread count."""
    from autograd.misc import flatten

    from vaekit.autograd_fixes import install_autograd_fixes
    from vaekit.numpy_to_torch import load_numpy_params

    install_autograd_fixes()  # as vaekit train does: float32 gradients stay float32
    x, batch = torch.from_numpy(x_np), benchlib.BATCH_SIZE
    run_epoch = {}

    # kit, PyTorch track
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = code_torch.networks.VAE(benchlib.X_DIM, benchlib.HIDDEN, benchlib.Z_DIM)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    run_epoch["kit-pytorch"] = lambda: code_torch.train.train_epoch(model, optimizer, x, generator, batch, 1)

    # kit, NumPy/autograd track
    rng = np.random.default_rng(seed)
    state = {"params": code_numpy.networks.init_vae_params(rng, benchlib.X_DIM, benchlib.HIDDEN, benchlib.Z_DIM,
                                                           np.float32)}
    state["adam"] = code_numpy.optim.adam_init(flatten(state["params"])[0])

    def numpy_epoch():
        state["params"], state["adam"], _ = code_numpy.train.train_epoch(state["params"], state["adam"], x_np, rng,
                                                                         batch, 1, 1e-3)

    run_epoch["kit-numpy"] = numpy_epoch

    # from-scratch baseline (pytorch/examples architecture, continuous Bernoulli likelihood); its noise comes
    # from the global RNG, as in pytorch/examples, seeded here
    baseline, loss_function = build_baseline(torch, seed)
    baseline_optimizer = torch.optim.Adam(baseline.parameters(), lr=1e-3)
    baseline_generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    run_epoch["baseline"] = lambda: train_baseline_epoch(torch, baseline, baseline_optimizer, loss_function, x,
                                                         baseline_generator, batch)

    rates = interleaved_epochs(run_epoch, len(x), epochs)
    rates["matmul-floor"] = benchlib.matmul_floor("torch", seed)

    def numpy_layer(fc):  # an nn.Linear as the NumPy track's (W of shape (fan_in, fan_out), b)
        return fc.weight.detach().numpy().T, fc.bias.detach().numpy()

    baseline_params = {"encoder": {"hidden": [numpy_layer(baseline.fc1)], "to_mu": numpy_layer(baseline.fc21),
                                   "to_log_var": numpy_layer(baseline.fc22)},
                       "decoder": {"hidden": [numpy_layer(baseline.fc3)], "to_logits": numpy_layer(baseline.fc4)}}
    trained = {  # name -> kit VAE with the trained weights, for the common evaluation
        "kit-pytorch": model,
        **{name: load_numpy_params(code_torch.networks.VAE(benchlib.X_DIM, benchlib.HIDDEN, benchlib.Z_DIM), params)
           for name, params in (("kit-numpy", state["params"]), ("baseline", baseline_params))},
    }
    steady = {name: statistics.median(r[1:] if name != "matmul-floor" else r) for name, r in rates.items()}
    elbo = {}
    for name, m in trained.items():
        m.eval()
        elbo[name] = code_torch.train.evaluate(m, x_test, torch.Generator().manual_seed(1), 500, 1)[0]
    for name, rate in steady.items():
        test = f"   test ELBO {elbo[name]:8.2f} nats/image" if name in elbo else ""
        print(f"   {LABELS[name]:<40} {rate:>9,.0f} images/s  {rate / steady['matmul-floor']:6.1%} of the floor{test}")
    ratios = {
        "kit-pytorch / baseline": steady["kit-pytorch"] / steady["baseline"],
        "kit-numpy / baseline": steady["kit-numpy"] / steady["baseline"],
        "kit-numpy / kit-pytorch": steady["kit-numpy"] / steady["kit-pytorch"],
        "kit-pytorch / floor": steady["kit-pytorch"] / steady["matmul-floor"],
        "kit-numpy / floor": steady["kit-numpy"] / steady["matmul-floor"],
        "baseline / floor": steady["baseline"] / steady["matmul-floor"],
    }
    for name, ratio in ratios.items():
        print(f"   {name:<26} {ratio:6.2f}")
    return {
        "images_per_second": {name: round(rate, 1) for name, rate in steady.items()},
        "images_per_second_per_epoch": {name: [round(v, 1) for v in r] for name, r in rates.items()},
        "ratios": {name: round(v, 4) for name, v in ratios.items()},
        "test_elbo_nats_per_image": {name: round(v, 3) for name, v in elbo.items()},
    }


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--quality-epochs", type=int, default=10,
                   help="epochs each model trains; the first is the warm-up, the others are timed")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the figures and settings to FILE")
    args = p.parse_args()
    if args.quality_epochs < 2:
        p.error("--quality-epochs must be >= 2 (the first epoch is the warm-up)")

    import platform

    import numpy as np
    import torch

    from vaekit.data import load_mnist
    from vaekit.io import save_json
    from vaekit.codefolder import Track
    from vaekit.threads import set_threads

    x_np, source = benchlib.training_images(args.data_root, args.seed)
    load_at_start = [round(v, 2) for v in os.getloadavg()]
    benchlib.header("The kit against a from-scratch VAE and the matrix-product floor", source)
    if args.data_root:
        x_test_np = load_mnist("test", args.data_root)[0]
        data = f"MNIST: {len(x_np)} training and {len(x_test_np)} test images"
    else:
        x_test_np = np.random.default_rng(args.seed + 1).random((1000, benchlib.X_DIM), dtype=np.float32)
        data = f"synthetic uniform images: {len(x_np)} training and {len(x_test_np)} test"
    code_torch, code_numpy = Track(args.code, "pytorch"), Track(args.code, "numpy_ag")
    by_threads = {}
    for threads in args.threads:
        set_threads(threads)
        print(f"-- {threads} thread(s): {args.quality_epochs} epochs per model, taking turns; images/s = median of "
              f"epochs 2..{args.quality_epochs}")
        by_threads[str(threads)] = compare(torch, np, code_torch, code_numpy, x_np, torch.from_numpy(x_test_np),
                                           args.quality_epochs, args.seed)

    if args.json:
        payload = {
            "benchmark": "bench_peers",
            "settings": {"data": data, "threads": args.threads, "cores": os.cpu_count(),
                         "epochs": args.quality_epochs, "timed_epochs": args.quality_epochs - 1,
                         "model": "784-400-20", "batch_size": benchlib.BATCH_SIZE, "samples_k": 1,
                         "dtype": "float32", "code": args.code, "seed": args.seed,
                         "load_average_at_start": load_at_start, "load_average_at_end": [
                             round(v, 2) for v in os.getloadavg()],
                         "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__},
            "by_threads": by_threads,
        }
        save_json(args.json, payload)
        print(f"   wrote {args.json}")


if __name__ == "__main__":
    main()
