"""Re-create the figures of the course site's Results page (docs/results.md) from the reference solutions.

    python scripts/make_results.py --data-root DIR            # about a minute on one thread
    python scripts/make_results.py --data-root DIR --quick    # seconds: a check that everything runs

Trains the PyTorch reference (``vaekit train --track pytorch --code solutions``) twice with the settings of
:data:`SETTINGS`: a model with D_z = 20 and the same model with D_z = 2. From the first it takes the training
curves (drawn from the ``metrics.json`` that ``vaekit train`` writes), the reconstructions and prior samples
(continuous Bernoulli means) and the latent traversal; from the second the scatter of the 2-D codes of the test
digits. The runs go to a temporary folder; the figures are then copied into ``--out`` (default
``docs/assets/results/``) one atomic write at a time, followed by ``results.json``, which records the settings,
the data sizes and the numbers of both runs, in nats per image.

The data come from ``--data-root`` or, without it, ``$VAEKIT_DATA_ROOT`` (else ``./data``): a folder with the
MNIST IDX files, as for ``vaekit train``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "assets" / "results"

# The settings of the default run; --quick overrides epochs and max_batches.
SETTINGS = {
    "track": "pytorch",
    "code": "solutions",
    "epochs": 50,
    "batch_size": 128,
    "lr": 1e-3,
    "hidden": (400,),
    "latent_dim": 20,
    "latent_dim_2d": 2,
    "samples": 1,
    "seed": 0,
    "threads": 1,
    "max_batches": None,
}
QUICK = {"epochs": 2, "max_batches": 2}

# figure in the run folder -> name under --out (the names docs/results.md shows)
FIGURES_20D = {"reconstructions.png": "reconstructions.png", "samples.png": "samples.png",
               "traversal.png": "traversal.png"}
FIGURES_2D = {"latent_scatter.png": "latent_scatter.png"}
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
                        help=f"a check that runs in seconds: {QUICK['epochs']} epochs of {QUICK['max_batches']} "
                             f"minibatches (the figures are not meaningful)")
    return parser.parse_args(argv)


def settings_for(quick: bool) -> dict:
    """The settings of the run: :data:`SETTINGS`, with :data:`QUICK` applied when ``quick``."""
    return {**SETTINGS, **(QUICK if quick else {}), "quick": quick}


def train(settings: dict, data_root: str | None, latent_dim: int, out: Path) -> dict:
    """One ``vaekit train`` run of the reference into ``out``; returns its metrics (see vaekit.training.loop.run)."""
    from vaekit.training.config import TrainConfig
    from vaekit.training.loop import run

    config = TrainConfig(
        track=settings["track"], code=settings["code"], data_root=data_root, epochs=settings["epochs"],
        batch_size=settings["batch_size"], lr=settings["lr"], latent_dim=latent_dim, hidden=settings["hidden"],
        samples=settings["samples"], seed=settings["seed"], out=str(out), max_batches=settings["max_batches"],
        threads=settings["threads"])
    return run(config, log=lambda line: print(f"[D_z = {latent_dim}] {line}", flush=True))


def summary(metrics: dict) -> dict:
    """The numbers of one run: its last epoch, its best test ELBO, and the seconds spent training."""
    rows = metrics["epochs"]
    last = rows[-1]
    best = max(rows, key=lambda row: row["test_elbo"])
    return {
        "final": {"epoch": last["epoch"],
                  **{key: _round(last[key]) for key in ("train_elbo", "test_elbo", "test_log_lik", "test_kl")}},
        "best_test_elbo": _round(best["test_elbo"]),
        "best_epoch": best["epoch"],
        "training_seconds": round(sum(row["seconds"] for row in rows), 1),
    }


def _round(value):
    return None if value is None else round(float(value), 2)


def data_sizes(data_root: str | None) -> dict:
    """The number of training and test images found under ``data_root`` (the same lookup as ``vaekit train``)."""
    from vaekit.data import load_mnist

    x_train, _ = load_mnist("train", data_root)
    x_test, _ = load_mnist("test", data_root)
    return {"dataset": "mnist", "n_train": int(len(x_train)), "n_test": int(len(x_test))}


def make_results(data_root: str | None, out: str | Path, quick: bool = False) -> dict:
    """Train both models, draw the figures and write them and ``results.json`` into ``out``; return the results.

    Raises:
        vaekit.training.loop.TrainError: missing data or a failed run, with a message saying what to do.
    """
    from vaekit import plotting
    from vaekit.io import load_json, save_json, write_bytes
    from vaekit.training.loop import METRICS_NAME

    out = Path(out)
    settings = settings_for(quick)
    sizes = data_sizes(data_root)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vaekit-results-") as work:
        work = Path(work)
        run_20d, run_2d = work / "dz20", work / "dz2"
        train(settings, data_root, settings["latent_dim"], run_20d)
        train(settings, data_root, settings["latent_dim_2d"], run_2d)
        metrics_20d = load_json(run_20d / METRICS_NAME)  # the file vaekit train wrote, not its return value
        metrics_2d = load_json(run_2d / METRICS_NAME)
        rows = metrics_20d["epochs"]
        plotting.save_training_curves(
            work / CURVES, [r["epoch"] for r in rows], [r["train_elbo"] for r in rows],
            [r["test_elbo"] for r in rows], [r["test_log_lik"] for r in rows], [r["test_kl"] for r in rows],
            title=f"PyTorch reference, D_z = {settings['latent_dim']}, {sizes['n_train']} training digits")
        copies = [(work / CURVES, CURVES)]
        copies += [(run_20d / src, dst) for src, dst in FIGURES_20D.items()]
        copies += [(run_2d / src, dst) for src, dst in FIGURES_2D.items()]
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
        "unit": "nats/image",
        "settings": {**settings, "hidden": list(settings["hidden"])},
        "data": sizes,
        "dz20": summary(metrics_20d),
        "dz2": summary(metrics_2d),
        "curves": [{key: row[key] for key in ("epoch", "train_elbo", "test_elbo", "test_log_lik", "test_kl")}
                   for row in metrics_20d["epochs"]],
        "figures": figures,
        "seconds": round(time.perf_counter() - started, 1),
    }
    save_json(out / RESULTS, results)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere: import the kit of this folder
    from vaekit.data import DataError
    from vaekit.training.loop import TrainError

    try:
        results = make_results(args.data_root, args.out, quick=args.quick)
    except (TrainError, DataError) as err:
        print(f"make_results: error: {err}", file=sys.stderr)
        return 2
    final = results["dz20"]["final"]
    print(f"D_z = 20 after {final['epoch']} epochs: test ELBO {final['test_elbo']} = log-lik "
          f"{final['test_log_lik']} - KL {final['test_kl']} nats/image; D_z = 2: test ELBO "
          f"{results['dz2']['final']['test_elbo']}; {results['seconds']} s")
    print(f"wrote {Path(args.out) / RESULTS} and " + ", ".join(results["figures"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
