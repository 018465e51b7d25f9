"""Export a trained decoder for the page "Explore the latent space" (docs/explore.md).

    python scripts/export_decoder.py runs/dz2/checkpoint.pt --data-root DIR
    python scripts/export_decoder.py runs/dz20/checkpoint.pt --data-root DIR --out docs/assets/explore/dz20

Reads a checkpoint written by ``vaekit train`` (``checkpoint.pt`` of the PyTorch track or ``checkpoint.npz``
of the NumPy track, any D_z >= 2) and writes into ``--out`` the decoder's weights (float16 when precise
enough, else float32) with the codes of the test digits (``decoder.bin``), the run's settings and the layout of
the weights (``decoder.json``), the decoder's full-precision output at 20 fixed points (``reference.npz``) and a
still figure (``still.png``).
See :mod:`vaekit.explorer`. ``scripts/make_results.py`` calls the same function on the models it trains.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "assets" / "explore" / "dz2"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python scripts/export_decoder.py",
        description="Write the decoder of a vaekit train checkpoint for the page 'Explore the latent space'.")
    parser.add_argument("checkpoint", help="checkpoint.pt (PyTorch track) or checkpoint.npz (NumPy track)")
    parser.add_argument("--data-root", default=None, metavar="DIR",
                        help="folder with the MNIST IDX files (default: $VAEKIT_DATA_ROOT, else ./data)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR",
                        help="folder to write (default: docs/assets/explore/dz2)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere: import the kit of this folder
    from vaekit.data import DataError
    from vaekit.explorer import ExportError, export_decoder
    from vaekit.training.loop import TrainError

    try:
        meta = export_decoder(args.checkpoint, args.out, args.data_root,
                              made_by=f"python scripts/export_decoder.py {Path(args.checkpoint).name}")
    except (ExportError, TrainError, DataError) as err:
        print(f"export_decoder: error: {err}", file=sys.stderr)
        return 2
    error = meta["precision"]["max_abs_error"]
    print(f"D_z = {meta['model']['z_dim']}, epoch {meta['run']['epoch']}: {meta['bytes']:,} bytes of weights and "
          f"codes; its {meta['precision']['weights']} weights move the mean by at most {error['mean']:.2g} and eta "
          f"by {error['eta']:.2g} from the checkpoint's decoder")
    print(f"wrote decoder.bin, decoder.json, reference.npz and still.png into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
