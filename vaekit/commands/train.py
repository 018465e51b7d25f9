"""``vaekit train``: train a VAE of either track on MNIST, checkpoint it every epoch and draw its figures.

The flags map one to one onto :class:`vaekit.training.config.TrainConfig`; the work is done in
``vaekit/training/``.
"""

from __future__ import annotations

import argparse
import sys

from . import int_at_least

DESCRIPTION = """\
Train the VAE of one track on MNIST (pixels in [0, 1], continuous Bernoulli decoder). By default it trains
YOUR code in exercises/{reference}. By default the pixels are dequantised, x = (byte + u)/256 with fresh
u ~ U(0, 1) every epoch, and the test numbers also read as a bound on the 8-bit images in bits per dimension
(--pixels raw trains on byte/255 instead). Prints the train and test ELBO in nats per image after every epoch
(positive values are normal for a continuous Bernoulli: it is a density on [0, 1]), saves a checkpoint and
metrics.json after every epoch, and at the end the training curves (training_curves.png) and the figures of
the trained model, all in --out.
"""


def _has_solutions() -> bool:
    """True in the instructors' copy of the kit; the student handout has no reference solutions."""
    from ..paths import SOLUTIONS

    return SOLUTIONS.is_dir()


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _positive_float(text: str) -> float:
    value = _number(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _eta_clip(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value < 0.5:
        raise argparse.ArgumentTypeError(f"must lie in [0, 0.5) (0: no clipping; the CB paper used 1e-4), got {text}")
    return value


def _hidden(text: str) -> tuple[int, ...]:
    from ..training.config import parse_hidden

    try:
        return parse_hidden(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def run(args: argparse.Namespace) -> int:
    from ..training.config import TrainConfig
    from ..training.loop import TrainError, run as train

    try:
        config = TrainConfig(
            track=args.track, code=args.code, data_root=args.data_root, dataset=args.dataset,
            download=args.download, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            latent_dim=args.latent_dim, hidden=args.hidden, samples=args.samples, seed=args.seed,
            out=args.out, max_batches=args.max_batches, device=args.device, resume=args.resume,
            threads=args.threads, pixels=args.pixels, eval_draws=args.eval_draws, eta_clip=args.eta_clip,
            iwae_samples=args.iwae_samples, iwae_images=args.iwae_images,
        )
    except ValueError as err:
        args.parser.error(str(err))  # exits with status 2
    try:
        train(config)
    except TrainError as err:
        print(f"vaekit train: error: {err}", file=sys.stderr)
        return err.code
    return 0


def register(subparsers) -> None:
    solutions = _has_solutions()
    description = DESCRIPTION.format(reference="; use --code solutions for the reference" if solutions else "")
    p = subparsers.add_parser(
        "train", help="train a VAE (yours or the reference) on MNIST" if solutions else "train your VAE on MNIST",
        description=description)
    from ..training.config import TrainConfig

    D = TrainConfig()  # every default below comes from the one config object
    p.add_argument("--track", choices=("numpy_ag", "pytorch"), default=D.track, help="which track to train (default: %(default)s)")
    if solutions:
        p.add_argument("--code", default="exercises", metavar="exercises|solutions|PATH",
                       help="whose implementation: your exercises/, the reference solutions/, or a folder laid "
                            "out like exercises/ (default: %(default)s)")
    else:
        p.add_argument("--code", default="exercises", metavar="exercises|PATH",
                       help="whose implementation: your exercises/ or a folder laid out like exercises/ "
                            "(default: %(default)s)")
    p.add_argument("--data-root", default=None, metavar="DIR",
                   help="folder with the MNIST IDX files (default: $VAEKIT_DATA_ROOT, else ./data)")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist"), default=D.dataset, help="(default: %(default)s)")
    p.add_argument("--download", action="store_true", help="download the data with torchvision if missing")
    p.add_argument("--epochs", type=int_at_least(0), default=D.epochs, help="total number of epochs (default: %(default)s)")
    p.add_argument("--batch-size", type=int_at_least(1), default=D.batch_size, help="B, images per minibatch (default: %(default)s)")
    p.add_argument("--lr", type=_positive_float, default=D.lr, help="Adam step size (default: %(default)s)")
    p.add_argument("--latent-dim", type=int_at_least(1), default=D.latent_dim, help="D_z (default: %(default)s; 2 adds a latent scatter plot)")
    p.add_argument("--hidden", type=_hidden, default=D.hidden, metavar="W[,W...]",
                   help="hidden widths of the encoder, e.g. 400 or 512,256; the decoder mirrors them "
                        f"(default: {','.join(map(str, D.hidden))})")
    p.add_argument("--samples", type=int_at_least(1), default=D.samples, metavar="K",
                   help="Monte Carlo samples of z per image in the ELBO (default: %(default)s)")
    p.add_argument("--seed", type=int_at_least(0), default=D.seed, help="seeds the weights, the shuffling and every eps (default: %(default)s)")
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default: runs/<track>)")
    p.add_argument("--max-batches", type=int_at_least(1), default=None, metavar="N",
                   help="quick check: N random minibatches per epoch and the first N*B test images")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="PyTorch track only (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out up to --epochs")
    p.add_argument("--threads", type=int_at_least(0), default=D.threads, metavar="N",
                   help="threads of BLAS and PyTorch (default: 1, the fastest on a busy machine; 0: all cores)")
    p.add_argument("--pixels", choices=("dequantised", "raw"), default=D.pixels,
                   help="dequantised: train on (byte + u)/256, fresh u ~ U(0, 1) each epoch, and report bits/dim on "
                        "the bytes; raw: train on byte/255 (default: %(default)s)")
    p.add_argument("--eval-draws", type=int_at_least(1), default=D.eval_draws, metavar="N",
                   help="dequantisation draws of the test set (fixed seed) the test numbers average over "
                        "(default: %(default)s)")
    p.add_argument("--eta-clip", type=_eta_clip, default=0.0, metavar="EPS",
                   help="clip eta to [EPS, 1 - EPS] by clamping the decoder's logits, as the continuous Bernoulli "
                        "paper's code does with 1e-4 (PyTorch track; default: 0, no clipping)")
    p.add_argument("--iwae-samples", type=int_at_least(0), default=0, metavar="K",
                   help="after training, the IWAE estimate of log p(x) with K samples on dequantised test images, "
                        "in nats and bits/dim (default: 0, none)")
    p.add_argument("--iwae-images", type=int_at_least(1), default=D.iwae_images, metavar="N",
                   help="how many test images (the first ones) the IWAE estimate uses (default: %(default)s)")
    p.set_defaults(func=run, parser=p)
