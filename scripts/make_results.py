"""Re-create the figures of the course site's Results page (docs/results.md) from the reference solutions.

    python scripts/make_results.py --data-root DIR            # about 15-20 minutes on one thread (full MNIST)
    python scripts/make_results.py --data-root DIR --quick    # seconds: a check that everything runs

Runs the experiment ``vaekit experiment dequantisation`` (vaekit/experiments/dequantisation.py) on MNIST: the
PyTorch reference (``vaekit train --track pytorch --code solutions``) trained with the settings of
:data:`SETTINGS` on raw pixels, on dequantised pixels and on raw pixels with eta clipped, each with D_z = 20 and
D_z = 2. The headline variant (:data:`HEADLINE`, the default of ``vaekit train``) gives the training curves
(drawn from the ``metrics.json`` that ``vaekit train`` writes), the reconstructions, prior samples and latent
traversal of its 20-D model and the scatter of its 2-D codes; the comparison figures of the experiment show
the three variants side by side. The runs go to a temporary folder; the figures are then copied into ``--out``
(default ``docs/assets/results/``) one atomic write at a time, followed by ``results.json``, which records the
settings, the data sizes and the numbers of every run, in nats per image and bits per dimension.

The data come from ``--data-root`` or, without it, ``$VAEKIT_DATA_ROOT`` (else ``./data``): a folder with the
MNIST IDX files, as for ``vaekit train``. The figures of the site come from the full 60,000 training digits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "assets" / "results"

HEADLINE = "dequantised"
# The settings of the default run (those of vaekit/experiments/dequantisation.py at its default size);
# --quick uses the experiment's quick size.
SETTINGS = {
    "track": "pytorch",
    "code": "solutions",
    "dataset": "mnist",
    "seed": 0,
    "latent_dim": 20,
    "latent_dim_2d": 2,
    "headline": HEADLINE,
}

# figure in the headline's run folder -> name under --out (the names docs/results.md shows)
FIGURES_20D = {"reconstructions.png": "reconstructions.png", "samples.png": "samples.png",
               "traversal.png": "traversal.png"}
FIGURES_2D = {"latent_scatter.png": "latent_scatter.png"}
COMPARISON = ("dequantisation_curves.png", "dequantisation_scatter.png", "dequantisation_samples.png",
              "dequantisation_reconstructions.png")
CURVES = "training_curves.png"
RESULTS = "results.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python scripts/make_results.py",
        description="Train the PyTorch reference VAE and write the figures and results.json of docs/results.md.")
    parser.add_argument("--data-root", default=None, metavar="DIR",
                        help="folder with the MNIST IDX files (default: $VAEKIT_DATA_ROOT, else ./data)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR",
                        help="where the figures and results.json go (default: docs/assets/results)")
    parser.add_argument("--quick", action="store_true",
                        help="a check that runs in seconds: the experiment's quick size, 1 epoch of 2 minibatches "
                             "of a tiny model (the figures are not meaningful)")
    return parser.parse_args(argv)


def settings_for(quick: bool) -> dict:
    """The settings of the run: :data:`SETTINGS` and the experiment's sizes at the default or quick size."""
    from vaekit.experiments import dequantisation
    from vaekit.experiments.common import Settings

    sizes = dequantisation.sizes(Settings(name="dequantisation", out="", quick=quick))
    sizes = {k: v for k, v in sizes.items() if k not in ("track", "latent_dims")}
    return {**SETTINGS, **sizes, "quick": quick}


def summary(metrics: dict) -> dict:
    """The numbers of one run: its last epoch, its best test ELBO, the seconds spent training and the bound after
    training on dequantised test pixels (``final`` of metrics.json)."""
    rows = metrics["epochs"]
    last = rows[-1]
    best = max(rows, key=lambda row: row["test_elbo"])
    return {
        "final": {"epoch": last["epoch"],
                  **{key: _round(last[key], 4 if key == "test_bits_per_dim" else 2)
                     for key in ("train_elbo", "test_elbo", "test_log_lik", "test_kl", "test_bits_per_dim")}},
        "best_test_elbo": _round(best["test_elbo"]),
        "best_epoch": best["epoch"],
        "training_seconds": round(sum(row["seconds"] for row in rows), 1),
        "dequantised_test": metrics["final"],
    }


def _round(value, digits: int = 2):
    return None if value is None else round(float(value), digits)


def data_sizes(data_root: str | None) -> dict:
    """The number of training and test images found under ``data_root`` (the same lookup as ``vaekit train``)."""
    from vaekit.data import load_mnist_bytes

    _, y_train = load_mnist_bytes("train", data_root)
    _, y_test = load_mnist_bytes("test", data_root)
    return {"dataset": "mnist", "n_train": int(len(y_train)), "n_test": int(len(y_test))}


def make_results(data_root: str | None, out: str | Path, quick: bool = False) -> dict:
    """Run the experiment, draw the figures and write them and ``results.json`` into ``out``; return the results.

    Raises:
        vaekit.experiments.common.ExperimentError: missing data or a failed run, with a message saying what to do.
    """
    from vaekit import plotting
    from vaekit.experiments import dequantisation
    from vaekit.experiments.common import Settings
    from vaekit.io import load_json, save_json, write_bytes
    from vaekit.training.loop import METRICS_NAME

    out = Path(out)
    settings = settings_for(quick)
    sizes = data_sizes(data_root)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vaekit-results-") as work:
        work = Path(work)
        experiment = dequantisation.run(
            Settings(name="dequantisation", out=str(work / "experiment"), data_root=data_root, dataset="mnist",
                     code=settings["code"], quick=quick, seed=settings["seed"]),
            runs_dir=work / "runs")
        run_20d = work / "runs" / f"{HEADLINE}-dz{settings['latent_dim']}"
        run_2d = work / "runs" / f"{HEADLINE}-dz{settings['latent_dim_2d']}"
        metrics_20d = load_json(run_20d / METRICS_NAME)  # the file vaekit train wrote, not its return value
        metrics_2d = load_json(run_2d / METRICS_NAME)
        rows = metrics_20d["epochs"]
        plotting.save_training_curves(
            work / CURVES, [r["epoch"] for r in rows], [r["train_elbo"] for r in rows],
            [r["test_elbo"] for r in rows], [r["test_log_lik"] for r in rows], [r["test_kl"] for r in rows],
            title=f"PyTorch reference, {HEADLINE} pixels, D_z = {settings['latent_dim']}, "
                  f"{sizes['n_train']} training digits")
        copies = [(work / CURVES, CURVES)]
        copies += [(run_20d / src, dst) for src, dst in FIGURES_20D.items()]
        copies += [(run_2d / src, dst) for src, dst in FIGURES_2D.items()]
        copies += [(work / "experiment" / name, name) for name in COMPARISON]
        figures = []
        for src, dst in copies:
            if not src.is_file():
                raise RuntimeError(f"the run did not draw {src.name}; vaekit train should have written it")
            figures.append(write_bytes(out / dst, src.read_bytes()).name)
        # --- The decoders of the page "Explore the latent space" (docs/explore.md), into the folder explore/
        # beside --out (docs/assets/explore/ by default); see scripts/export_decoder.py.
        from vaekit.explorer import export_decoder
        for run_dir, name in ((run_2d, "dz2"), (run_20d, "dz20")):
            export_decoder(run_dir / "checkpoint.pt", out.parent / "explore" / name, data_root,
                           made_by="python scripts/make_results.py" + (" --quick" if quick else ""))
    results = {
        "command": "python scripts/make_results.py" + (" --quick" if quick else ""),
        "unit": "nats/image; bits/dim: bound on the 8-bit test images, -(L - 784 log 256)/(784 log 2)",
        "settings": {**settings, "hidden": list(settings["hidden"])},
        "data": sizes,
        "headline": HEADLINE,
        "dz20": summary(metrics_20d),
        "dz2": summary(metrics_2d),
        "curves": [{key: row[key] for key in
                    ("epoch", "train_elbo", "test_elbo", "test_log_lik", "test_kl", "test_bits_per_dim")}
                   for row in metrics_20d["epochs"]],
        "variants": experiment["results"]["variants"],
        "clip": experiment["results"]["clip"],
        "figures": figures,
        "seconds": round(time.perf_counter() - started, 1),
    }
    save_json(out / RESULTS, results)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere: import the kit of this folder
    from vaekit.data import DataError
    from vaekit.experiments.common import ExperimentError
    from vaekit.threads import set_threads
    from vaekit.training.loop import TrainError

    set_threads(1)
    try:
        results = make_results(args.data_root, args.out, quick=args.quick)
    except (TrainError, DataError, ExperimentError) as err:
        print(f"make_results: error: {err}", file=sys.stderr)
        return 2
    for variant, runs in results["variants"].items():
        d = runs["dz20"]["dequantised_test"]
        iwae = d["iwae"]
        print(f"{variant:>12}, D_z = 20: test ELBO {runs['dz20']['last']['test_elbo']:.2f} nats/image on its own "
              f"pixels; on dequantised test pixels ELBO {d['elbo_bits_per_dim']:.4f} bits/dim"
              + (f", IWAE K = {iwae['samples']} {iwae['bits_per_dim']:.4f} bits/dim" if iwae else "")
              + f"; D_z = 2 KL {runs['dz2']['last']['test_kl']:.1f} nats")
    print(f"{results['seconds']} s")
    print(f"wrote {Path(args.out) / RESULTS} and " + ", ".join(results["figures"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
