"""Training throughput of the PyTorch track, the floor set by its matrix products, and (with data) its quality.

    .venv/bin/python benchmarks/bench_torch.py [--data-root DIR] [--threads 1,2] [--code solutions]

For each thread count (``torch.set_num_threads``), prints images per second of the track's ``train_epoch``
(784-400-20, batch 128, K = 1, float32) against the target of 15,000 images/s, and the bare matrix products
of one step. With ``--data-root`` it then trains a fresh model for 10 epochs on that folder's training split
(5,000 digits for the course's subset) with the fastest thread count, and prints the test ELBO (target
>= 1,620 nats/image) and the importance-weighted estimate of log p(x) with K = 1000.
"""

from __future__ import annotations

import time

import benchlib

TARGET = 15000.0
ELBO_TARGET = 1620.0


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--quality-epochs", type=int, default=10, help="epochs of the quality run (with --data-root)")
    p.add_argument("--iwae-k", type=int, default=1000, help="importance samples K per test image")
    p.add_argument("--iwae-images", type=int, default=None, help="test images for the IWAE estimate (default all)")
    args = p.parse_args()

    import numpy as np
    import torch

    from vaekit.codefolder import Track
    from vaekit.experiments.common import new_vae
    from vaekit.experiments.measures import iwae_bound
    from vaekit.threads import set_threads

    x_np, source = benchlib.training_images(args.data_root, args.seed)
    benchlib.header("PyTorch track: training throughput", source)
    code = Track(args.code, "pytorch")
    x = torch.from_numpy(x_np)

    def new_model(seed):
        model = new_vae(code, benchlib.Z_DIM, benchlib.HIDDEN, seed)
        return model, torch.optim.Adam(model.parameters(), lr=1e-3)

    speed = {}
    for threads in args.threads:
        set_threads(threads)
        print(f"-- {threads} thread(s)")
        model, optimizer = new_model(args.seed)
        generator = torch.Generator().manual_seed(args.seed)
        rates = []
        for _ in range(args.epochs + 1):
            t0 = time.perf_counter()
            code.train.train_epoch(model, optimizer, x, generator, benchlib.BATCH_SIZE, 1)
            rates.append(len(x) / (time.perf_counter() - t0))
        benchlib.report("train_epoch, first epoch (incl. warm-up)", rates[:1])
        benchlib.report(f"train_epoch ({code.target.name}/pytorch)", rates[1:] or rates, TARGET)
        speed[threads] = sorted(rates[1:] or rates)[len(rates[1:] or rates) // 2]

        floor = benchlib.matmul_floor("torch", args.seed)
        benchlib.report(f"matrix products only ({len(benchlib.matmul_shapes())} per step)", floor)

    if not args.data_root:
        print("   (no --data-root: skipping the test ELBO and the IWAE estimate)")
        return

    from vaekit.data import load_mnist

    x_test = torch.from_numpy(load_mnist("test", args.data_root)[0])
    threads = max(speed, key=speed.get)
    set_threads(threads)
    print(f"== PyTorch track: quality after {args.quality_epochs} epochs on {len(x)} training images "
          f"(test set: {len(x_test)} images; {threads} thread(s))")
    model, optimizer = new_model(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    for _ in range(args.quality_epochs):
        code.train.train_epoch(model, optimizer, x, generator, benchlib.BATCH_SIZE, 1)
    print(f"   trained in {time.perf_counter() - t0:.1f} s")
    elbo, log_lik, kl = code.train.evaluate(model, x_test, torch.Generator().manual_seed(1), 500, 1)
    verdict = "met" if elbo >= ELBO_TARGET else "NOT MET"
    print(f"   test ELBO (K = 1)                          {elbo:10.2f} nats/image  (log-lik {log_lik:.2f}, "
          f"KL {kl:.2f})  target >= {ELBO_TARGET:,.0f}: {verdict}")

    n_iwae = len(x_test) if args.iwae_images is None else min(args.iwae_images, len(x_test))
    if n_iwae < 1:
        return
    t0 = time.perf_counter()
    iwae = iwae_bound(code, model, x_test[:n_iwae], args.iwae_k, seed=2, max_draws=10_000)  # <= 10,000 rows a pass
    seconds = time.perf_counter() - t0
    if n_iwae < len(x_test):  # compare with the ELBO of the same images
        elbo = code.train.evaluate(model, x_test[:n_iwae], torch.Generator().manual_seed(1), 500, 1)[0]
    print(f"   IWAE log p(x) estimate (K = {args.iwae_k})         {iwae:10.2f} nats/image  on {n_iwae} test "
          f"images, {seconds:.0f} s; minus their ELBO: {iwae - elbo:+.2f}")
    if not np.isfinite(iwae):
        raise SystemExit("the IWAE estimate is not finite")


if __name__ == "__main__":
    main()
