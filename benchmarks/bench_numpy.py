"""Training throughput of the NumPy/autograd track, and the floor set by its matrix products.

    .venv/bin/python benchmarks/bench_numpy.py [--data-root DIR] [--threads 1,2] [--code solutions]

For each BLAS thread count, prints images per second of the track's ``train_epoch`` (784-400-20, batch 128,
K = 1, float32): the first epoch (with the warm-up) and the median of the following ones, against the target
of 8,000 images/s; then the bare matrix products of one step, the ceiling no autograd code can pass.
"""

from __future__ import annotations

import time

import benchlib

TARGET = 8000.0


def main() -> None:
    args = benchlib.parser(__doc__.splitlines()[0]).parse_args()

    import numpy as np
    from autograd.misc import flatten

    from vaekit.codefolder import Track
    from vaekit.threads import set_threads

    x, source = benchlib.training_images(args.data_root, args.seed)
    benchlib.header("NumPy/autograd track: training throughput", source)
    from vaekit.autograd_fixes import install_autograd_fixes

    install_autograd_fixes()  # as vaekit train does: float32 gradients stay float32
    code = Track(args.code, "numpy_ag")

    for threads in args.threads:
        set_threads(threads)
        print(f"-- {threads} BLAS thread(s)")
        rng = np.random.default_rng(args.seed)
        params = code.networks.init_vae_params(rng, benchlib.X_DIM, benchlib.HIDDEN, benchlib.Z_DIM, np.float32)
        state = code.optim.adam_init(flatten(params)[0])
        rates = []
        for _ in range(args.epochs + 1):
            t0 = time.perf_counter()
            params, state, loss = code.train.train_epoch(params, state, x, rng, benchlib.BATCH_SIZE, 1, 1e-3)
            rates.append(len(x) / (time.perf_counter() - t0))
        dtypes = sorted({a.dtype.name for a in (flatten(params)[0], state["m"], state["v"])})
        benchlib.report("train_epoch, first epoch (incl. warm-up)", rates[:1])
        benchlib.report(f"train_epoch ({code.target.name}/numpy_ag)", rates[1:] or rates, TARGET)
        print(f"   parameters and Adam state: {', '.join(dtypes)}; last loss {loss:.1f} nats/image")

        floor = benchlib.matmul_floor("numpy", args.seed)
        benchlib.report(f"matrix products only ({len(benchlib.matmul_shapes())} per step)", floor)


if __name__ == "__main__":
    main()
