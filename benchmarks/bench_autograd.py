"""autograd's own Python time in a training step of the NumPy track, with the kit's fixes and without them.

    .venv/bin/python benchmarks/bench_autograd.py [--rounds 30] [--code solutions]

The loss of the track's ``train_step`` (``value_and_grad`` of -mean ELBO of the flat parameter vector) on a
model so small (8-4-2, one image) that NumPy's arithmetic costs next to nothing: what is left is autograd
recording the tape and walking it back, the time it adds to every step of the course's model as well. The two
variants (``vaekit.autograd_fixes`` installed, and autograd as shipped) take turns, ``--rounds`` times 200
calls each, in one process; the script prints the median time per call of each, the median of the paired
differences with its quartiles, the number of tape nodes per call and the time per node.
"""

from __future__ import annotations

import os
import statistics
import time

import benchlib

CALLS = 200


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=30, help="turns of each variant (default 30)")
    args = p.parse_args()

    import numpy as np
    from autograd import value_and_grad
    from autograd.core import VJPNode

    from vaekit.autograd_fixes import install_autograd_fixes, uninstall_autograd_fixes
    from vaekit.codefolder import Track
    from vaekit.threads import set_threads

    set_threads(1)
    print("== autograd's Python time: value_and_grad of the training loss on an 8-4-2 VAE, one image")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"   load average {load} (other work on the cores distorts the figures)")
    code = Track(args.code, "numpy_ag")
    rng = np.random.default_rng(args.seed)
    params = code.networks.init_vae_params(rng, 8, (4,), 2, np.float32)
    x = rng.random((1, 8), dtype=np.float32)
    eps = rng.standard_normal((1, 1, 2)).astype(np.float32)
    theta, unflatten = code.optim.flatten_params(params)

    def loss(theta):
        return -np.mean(code.networks.vae_forward(unflatten(theta), x, eps)[0])

    f = value_and_grad(loss)
    nodes = count_nodes(f, theta, VJPNode)
    variants = {"autograd as shipped": uninstall_autograd_fixes, "with vaekit.autograd_fixes": install_autograd_fixes}
    times = {name: [] for name in variants}
    for turn in range(args.rounds):
        order = list(variants.items())
        for name, setup in order if turn % 2 == 0 else order[::-1]:
            setup()
            for _ in range(20):
                f(theta)
            t0 = time.perf_counter()
            for _ in range(CALLS):
                f(theta)
            times[name].append((time.perf_counter() - t0) / CALLS * 1e3)
    uninstall_autograd_fixes()
    for name, values in times.items():
        med = statistics.median(values)
        print(f"   {name:<30} {med:7.3f} ms per call, {med / nodes * 1e3:5.1f} us per tape node "
              f"(min {min(values):.3f}, max {max(values):.3f} ms; {len(values)} x {CALLS} calls)")
    shipped, fixed = times.values()
    diffs = [b - a for a, b in zip(shipped, fixed)]
    q1, q2, q3 = statistics.quantiles(diffs, n=4)
    print(f"   paired difference (fixes - shipped): median {q2:+.3f} ms per call (quartiles {q1:+.3f}, {q3:+.3f}); "
          f"{nodes} tape nodes per call")


def count_nodes(f, theta, node_type) -> int:
    """The number of nodes of the tape one call of f records."""
    count = 0
    init = node_type.__init__

    def counting_init(self, *args, **kwargs):
        nonlocal count
        count += 1
        init(self, *args, **kwargs)

    node_type.__init__ = counting_init
    try:
        f(theta)
    finally:
        node_type.__init__ = init
    return count


if __name__ == "__main__":
    main()
