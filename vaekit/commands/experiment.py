"""``vaekit experiment NAME``: run one of the experiments of ``vaekit/experiments/`` (or ``all``) and save its
figures and ``results.json``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import int_at_least

DESCRIPTION = """\
Run an experiment with the PyTorch track (the reference solutions by default; --code exercises runs yours):
  estimators       pathwise vs score-function gradients: toy variances, VAE gradient variance, training curves
  iwae             the importance-weighted bound, trained with K = 1, 5, 50 and evaluated for K up to 500
  cb-vs-bernoulli  continuous Bernoulli vs Bernoulli decoder on grey levels: ELBO, log p(x), images, k-NN
  latent           the latent space: 2-D scatter, grid and interpolation; PCA of a 20-D model
  dequantisation   raw vs dequantised vs eta-clipped pixels: ELBO and KL curves, 2-D codes, samples,
                   nats/image and bits/dim with IWAE K = 1000 (six training runs of 10 epochs on the full
                   training set: the longest experiment, tens of minutes on one thread)
  all              all five, one after the other
Figures (PNG) and results.json go to OUT/NAME/. The first four run in a few minutes on two cores at their
default size; every one runs in seconds with --quick.
"""


def run(args: argparse.Namespace) -> int:
    from ..data import DataError
    from ..experiments import EXPERIMENTS, module_of
    from ..experiments.common import ExperimentError, Settings
    from ..codefolder import SubmissionError
    from ..training.config import TrainConfig
    from ..threads import set_threads
    from ..training.loop import not_implemented_message

    import torch  # noqa: F401  (loaded first, so that set_threads sets PyTorch's thread count too)

    set_threads(args.threads)
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    for name in names:
        settings = Settings(name=name, out=str(Path(args.out) / name), data_root=args.data_root,
                            dataset=args.dataset, code=args.code, quick=args.quick, seed=args.seed)
        try:
            result = module_of(name).run(settings)
        except NotImplementedError as err:
            message = not_implemented_message(err, TrainConfig(track="pytorch", code=args.code))
            print(f"vaekit experiment {name}: error: {message}", file=sys.stderr)
            return 1
        except ExperimentError as err:
            print(f"vaekit experiment {name}: error: {err}", file=sys.stderr)
            return err.code
        except (DataError, SubmissionError) as err:
            print(f"vaekit experiment {name}: error: {err}", file=sys.stderr)
            return 2
        print(f"{name}: {result['seconds']} s; wrote {settings.out}/results.json and "
              + ", ".join(result["figures"]))
    return 0


def register(subparsers) -> None:
    from ..experiments import EXPERIMENTS
    from ..threads import DEFAULT_THREADS

    p = subparsers.add_parser("experiment", help="run an experiment (estimators, iwae, cb-vs-bernoulli, latent, dequantisation)",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", choices=[*EXPERIMENTS, "all"], metavar="NAME",
                   help=f"one of: {', '.join(EXPERIMENTS)}, all")
    p.add_argument("--quick", action="store_true", help="tiny size (seconds): a smoke test, not a result")
    p.add_argument("--data-root", default=None, metavar="DIR",
                   help="folder with the MNIST IDX files (default: $VAEKIT_DATA_ROOT, else ./data)")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist"), default="mnist")
    p.add_argument("--code", default="solutions", metavar="solutions|exercises|PATH",
                   help="whose PyTorch track runs (default: the reference solutions)")
    p.add_argument("--out", default="runs/experiments", metavar="DIR",
                   help="parent folder of the results (default: runs/experiments); each goes to DIR/NAME")
    p.add_argument("--seed", type=int, default=0, help="seeds the weights, the shuffling and every eps")
    p.add_argument("--threads", type=int_at_least(0), default=DEFAULT_THREADS, metavar="N",
                   help="threads of PyTorch and BLAS (0: the libraries' defaults); one is the safe choice when "
                        "other programs share the cores")
    p.set_defaults(func=run)
