"""One full-MNIST training epoch of each track, as ``vaekit train`` runs it, beside the matrix-product floor.

    .venv/bin/python benchmarks/bench_epoch.py --data-root DIR     # DIR: the full MNIST (60,000 digits)
    .venv/bin/python benchmarks/bench_epoch.py                     # 60,000 synthetic images instead

One thread, float32, the course's model 784-400-20, batches of 128, K = 1. For each track the script makes the
``Trainer`` of ``vaekit train`` (``vaekit/training/``), dequantises the 60,000 training images as an epoch of
``vaekit train`` does (timed on its own), warms up on a few minibatches and then times ``--epochs`` whole
``train_epoch`` calls (default 3), reporting their median, min and max: on a machine shared with other work, one
epoch alone can be slowed by it. It prints images per second against the targets (PyTorch >= 15,000, NumPy/autograd >= 12,000
images/s on an idle machine) and, for each library, the images per second of the bare matrix products of a
training step: the floor no implementation on that library can beat. The load average in the header says how
busy the cores were; other work distorts every figure. The line "per second of CPU time it got" divides by the
CPU time of this process instead of the wall time: on a busy machine it is closer to what an idle one gives (but
not equal: the other work still shares the caches and the memory bandwidth).
"""

from __future__ import annotations

import statistics
import time

import benchlib

TARGETS = {"pytorch": 15000.0, "numpy_ag": 12000.0}
N_IMAGES = 60_000
WARM_UP_BATCHES = 20


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--tracks", default="pytorch,numpy_ag", help="which tracks to time (default: both)")
    args = p.parse_args()
    if args.epochs < 1:
        p.error(f"--epochs must be at least 1, got {args.epochs}")

    import numpy as np
    import torch  # noqa: F401 - imported before set_threads, so that its thread pool gets one thread too

    from vaekit.pixels import TRAIN_NOISE, dequantise, noise_rng
    from vaekit.threads import set_threads
    from vaekit.training.config import TrainConfig
    from vaekit.training.loop import trainer_class

    if args.data_root:
        from vaekit.data import load_mnist_bytes

        images, _ = load_mnist_bytes("train", args.data_root)
        source = f"MNIST train split in {args.data_root} ({len(images)} images)"
    else:
        images = np.random.default_rng(args.seed).integers(0, 256, size=(N_IMAGES, benchlib.X_DIM), dtype=np.uint8)
        source = f"synthetic random bytes ({N_IMAGES} images)"
    benchlib.header("one training epoch per track, one thread, as vaekit train runs it", source)
    set_threads(1)

    t0 = time.perf_counter()
    x = dequantise(images, noise_rng(args.seed, TRAIN_NOISE, 1))
    seconds = time.perf_counter() - t0
    print(f"   dequantising the epoch's {len(x):,} images: {seconds:.2f} s ({len(x) / seconds:,.0f} images/s)")

    # The best of 5 measurements of the bare matrix products of a step, on the one thread set above.
    floors = {"numpy_ag": max(benchlib.matmul_floor("numpy", args.seed, n=100)),
              "pytorch": max(benchlib.matmul_floor("torch", args.seed, n=100))}
    for track in args.tracks.split(","):
        config = TrainConfig(track=track, code=args.code, seed=args.seed, threads=1, hidden=benchlib.HIDDEN,
                             latent_dim=benchlib.Z_DIM, batch_size=benchlib.BATCH_SIZE)
        trainer = trainer_class(track)(config)
        trainer.train_epoch(x[: WARM_UP_BATCHES * benchlib.BATCH_SIZE])
        rates, cpu_rates = [], []
        for _ in range(args.epochs):
            t0, cpu0 = time.perf_counter(), time.process_time()
            loss = trainer.train_epoch(x)
            rates.append(len(x) / (time.perf_counter() - t0))
            cpu_rates.append(len(x) / (time.process_time() - cpu0))
        print(f"-- {track} ({code_name(args.code)}): {args.epochs} epoch(s) of {len(x):,} images, last loss "
              f"{loss:.1f} nats/image")
        benchlib.report("train_epoch", rates, TARGETS[track])
        benchlib.report("train_epoch per second of CPU time it got", cpu_rates)
        benchlib.report("matrix products of a step only (the floor)", [floors[track]])
        print(f"   {'epoch (median) / floor':<44} {statistics.median(rates) / floors[track]:>10.2f}")


def code_name(code: str) -> str:
    return code if code in ("solutions", "exercises") else "custom code"


if __name__ == "__main__":
    main()
