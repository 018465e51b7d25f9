"""Export a trained decoder for the page "Explore the latent space" (docs/explore.md).

The page decodes latent codes in the reader's browser (docs/assets/javascripts/latent-explorer.js), so it needs
the decoder's weights, the codes of the test digits and the settings of the run that made them. From a
checkpoint of ``vaekit train`` (either track) :func:`export_decoder` writes, into one folder:

- ``decoder.bin``: little-endian arrays, one after the other: per decoder layer W (fan_in, fan_out) and b
  (fan_out,) in float16 or float32 (see :data:`WEIGHT_DTYPES`), then the plane coordinates of the test codes
  (N, 2) in float32 and their labels (N,) in uint8. ``decoder.json`` lists each array's name, dtype, shape and
  byte offset.
- ``decoder.json``: the layout above, the run (its settings, epoch and test ELBO, the command that trained it),
  the plane shown (see :func:`plane_of`), the measured error of the stored weights, the digit colours.
- ``reference.npz``: 20 fixed points of the plane, their codes z and the decoder's logits l, continuous
  Bernoulli mean and eta = sigmoid(l) computed by the track's own code with the full-precision weights of the
  checkpoint (the browser's decode is tested against them).
- ``still.png``: the same scatter and a grid of decoded means, for readers without JavaScript.

The plane: with D_z = 2 it is the latent space itself, z = a. With D_z > 2 it is the plane through the mean m
of the codes spanned by their two principal directions u_1, u_2: z = m + a_1 u_1 + a_2 u_2, the other
coordinates held at their mean.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from . import IMAGE_DIM, IMAGE_SIDE
from .io import save_json, write_bytes

FORMAT = 1
# The browser's decode must match the full-precision decoder within this (largest absolute difference of one
# pixel of the mean, or of eta, over the 20 reference points).
TOLERANCE = 2e-3
# The weights are stored in float16 when that keeps the decoded images within TOLERANCE / 2 of the
# full-precision decoder, else in float32. A 2-D model whose codes lie far from the origin needs float32: there
# the hidden units reach ~100 and the logits are sums of large terms that cancel, so the 3-digit precision of
# float16 weights moves the images by several hundredths.
WEIGHT_DTYPES = ("float16", "float32")
MAX_BYTES = 1_500_000
# Settings of vaekit train that describe a run; data_root and out are local paths and are not recorded.
RUN_KEYS = ("track", "code", "dataset", "epochs", "batch_size", "lr", "latent_dim", "hidden", "samples", "seed",
            "max_batches", "threads")
DIGIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")  # matplotlib's tab10


class ExportError(Exception):
    """The checkpoint or the data cannot be exported; the message says what to do."""


def load_trainer(checkpoint: str | Path):
    """The ``Trainer`` of the checkpoint's track with its weights loaded, and the checkpoint's config (a dict).

    ``checkpoint.pt`` is read as the PyTorch track, ``checkpoint.npz`` as the NumPy track. The model code is
    the reference ``solutions/`` (the architecture both tracks share), whatever code trained the weights.
    """
    from .training.config import TrainConfig

    path = Path(checkpoint)
    if not path.is_file():
        raise ExportError(f"no checkpoint at {path}: train one with `vaekit train --latent-dim 2 --out DIR` "
                          f"and pass DIR/checkpoint.pt (PyTorch track) or DIR/checkpoint.npz (NumPy track)")
    if path.suffix == ".pt":
        from .training.pytorch import Trainer
    elif path.suffix == ".npz":
        from .training.numpy_ag import Trainer
    else:
        raise ExportError(f"{path}: expected a checkpoint of vaekit train, checkpoint.pt or checkpoint.npz")
    stored = Trainer.peek_config(path)
    config = TrainConfig.from_dict({**stored, "code": "solutions", "device": "cpu", "resume": False, "out": None})
    trainer = Trainer(config)
    epoch = trainer.load_checkpoint(path)
    return trainer, {**stored, "epoch": epoch}


def decoder_layers(trainer) -> list[tuple[np.ndarray, np.ndarray]]:
    """The decoder's affine layers [(W (fan_in, fan_out), b (fan_out,)), ...] in float32, from z to the logits.

    The decoder is l = h_L W_L + b_L with h_0 = z and h_k = relu(h_{k-1} W_k + b_k) for the hidden layers.
    """
    if hasattr(trainer, "model"):  # PyTorch: nn.Linear keeps weight (fan_out, fan_in)
        import torch

        linears = [m for m in trainer.model.decoder.modules() if isinstance(m, torch.nn.Linear)]
        return [(m.weight.detach().cpu().numpy().T.astype(np.float32), m.bias.detach().cpu().numpy().astype(np.float32))
                for m in linears]
    dec = trainer.params["decoder"]
    return [(np.asarray(W, np.float32), np.asarray(b, np.float32)) for W, b in [*dec["hidden"], dec["to_logits"]]]


def set_decoder_layers(trainer, layers) -> None:
    """Replace the decoder's weights of ``trainer`` by ``layers`` (the format of :func:`decoder_layers`)."""
    layers = [(np.asarray(W, np.float32), np.asarray(b, np.float32)) for W, b in layers]
    decoder = {"hidden": layers[:-1], "to_logits": layers[-1]}
    if hasattr(trainer, "model"):
        from .numpy_to_torch import load_numpy_params

        load_numpy_params(trainer.model.decoder, decoder, part="decoder")
        return
    trainer.params["decoder"] = decoder


def decode_logits(trainer, z: np.ndarray) -> np.ndarray:
    """The decoder's logits l (N, 784) at codes z (N, D_z), computed by the track's own code."""
    if hasattr(trainer, "model"):
        import torch

        with torch.no_grad():
            return trainer.model.decoder(torch.from_numpy(np.asarray(z, np.float32))).numpy()
    return np.asarray(trainer.networks.decode(trainer.params["decoder"], np.asarray(z, np.float32)))


def decode_all(trainer, z: np.ndarray) -> dict[str, np.ndarray]:
    """Logits l, continuous Bernoulli mean and eta = sigmoid(l), each (N, 784), at codes z (N, D_z)."""
    logits = decode_logits(trainer, z)
    mean = np.asarray(trainer.decode_mean(np.asarray(z, np.float32)), np.float32)
    eta = (0.5 * (1.0 + np.tanh(0.5 * logits.astype(np.float64)))).astype(np.float32)  # sigmoid, no overflow
    return {"logits": logits.astype(np.float32), "mean": mean, "eta": eta}


def plane_of(mu: np.ndarray) -> dict:
    r"""The plane the page shows, z = origin + a @ axes, for codes mu (N, D_z).

    D_z = 2: origin 0 and axes I (the plane is the latent space). D_z > 2: origin m = mean of mu, axes the
    two leading eigenvectors u_1, u_2 of the covariance of mu (rows of ``axes``, shape (2, D_z), each with its
    largest component positive), so a = (mu - m) @ axes.T are the codes' first two principal components.

    The prior N(0, I) restricted to the plane is a Gaussian in a centred at ``prior_centre`` = -(m @ axes.T)
    with unit variance along both axes (the axes are orthonormal).

    Returns:
        dict with ``origin`` (D_z,), ``axes`` (2, D_z), ``coords`` (N, 2), ``explained`` (the fraction of the
        codes' variance along each axis, 2 values), ``prior_centre`` (2,).
    """
    mu = np.asarray(mu, np.float64)
    z_dim = mu.shape[1]
    if z_dim == 2:
        origin, axes = np.zeros(2), np.eye(2)
    else:
        origin = mu.mean(axis=0)
        values, vectors = np.linalg.eigh(np.cov(mu, rowvar=False))
        axes = vectors[:, np.argsort(values)[::-1][:2]].T
        signs = np.sign(axes[np.arange(2), np.argmax(np.abs(axes), axis=1)])
        axes = axes * signs[:, None]
    coords = (mu - origin) @ axes.T
    total = float(np.var(mu, axis=0).sum())
    explained = np.var(coords, axis=0) / total if total > 0 else np.zeros(2)
    return {"origin": origin, "axes": axes, "coords": coords, "explained": explained,
            "prior_centre": -(origin @ axes.T) + 0.0}  # + 0.0: no -0.0 in the JSON


def view_extent(coords: np.ndarray, prior_centre: np.ndarray) -> list[float]:
    """A square [x_min, x_max, y_min, y_max] holding 99.5 % of the codes and the prior's 3-sigma disc."""
    lo = np.minimum(np.percentile(coords, 0.25, axis=0), prior_centre - 3.0)
    hi = np.maximum(np.percentile(coords, 99.75, axis=0), prior_centre + 3.0)
    centre, half = (lo + hi) / 2, 1.05 * float(np.max(hi - lo)) / 2
    return [round(float(v), 3) for v in (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)]


def reference_points(extent: list[float]) -> np.ndarray:
    """The 20 fixed points (20, 2) of the plane: a 5 x 4 grid over the inner 80 % of the view, rounded to 1/1000."""
    x0, x1, y0, y1 = extent
    xs = np.linspace(x0 + 0.1 * (x1 - x0), x1 - 0.1 * (x1 - x0), 5)
    ys = np.linspace(y0 + 0.1 * (y1 - y0), y1 - 0.1 * (y1 - y0), 4)
    return np.round(np.array([(x, y) for y in ys for x in xs]), 3)


def pack(arrays: list[tuple[str, np.ndarray]]) -> tuple[bytes, list[dict]]:
    """Concatenate arrays (little-endian, each starting at a multiple of 8 bytes); return the bytes and the table
    ``[{"name", "dtype", "shape", "offset", "nbytes"}, ...]`` that :func:`unpack` and the page read."""
    blob, table = bytearray(), []
    for name, a in arrays:
        a = np.ascontiguousarray(a)
        a = a.astype(a.dtype.newbyteorder("<"))
        blob += b"\0" * (-len(blob) % 8)
        table.append({"name": name, "dtype": a.dtype.name, "shape": list(a.shape), "offset": len(blob),
                      "nbytes": a.nbytes})
        blob += a.tobytes()
    return bytes(blob), table


def unpack(blob: bytes, table: list[dict]) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack`: name -> array."""
    out = {}
    for entry in table:
        dtype = np.dtype(entry["dtype"]).newbyteorder("<")
        a = np.frombuffer(blob, dtype=dtype, count=int(np.prod(entry["shape"])), offset=entry["offset"])
        out[entry["name"]] = a.reshape(entry["shape"])
    return out


def layers_from(arrays: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The decoder layers [(W, b), ...] in float32 from unpacked arrays named W0, b0, W1, b1, ..."""
    n = sum(1 for name in arrays if name.startswith("W"))
    return [(arrays[f"W{k}"].astype(np.float32), arrays[f"b{k}"].astype(np.float32)) for k in range(n)]


def train_command(run: dict) -> str:
    """The ``vaekit train`` command line that reproduces the settings ``run`` (flags at their default left out)."""
    from .training.config import TrainConfig

    default = TrainConfig()
    flags = []
    for key in RUN_KEYS:
        value = run.get(key)
        if key == "hidden":
            value, default_value = list(value), list(default.hidden)
        else:
            default_value = getattr(default, key)
        if value is None or value == default_value:
            continue
        shown = ",".join(map(str, value)) if key == "hidden" else value
        flags.append(f"--{key.replace('_', '-')} {shown}")
    return " ".join(["vaekit train", *flags, "--data-root DIR"])


def run_summary(config: dict, checkpoint: Path, n_train: int, n_test: int) -> dict:
    """The run behind a checkpoint: its settings, epoch, data sizes, command and (from the metrics.json that
    vaekit train writes beside the checkpoint, when present) the test ELBO and its terms at that epoch."""
    from .training.loop import METRICS_NAME

    run = {key: config.get(key) for key in RUN_KEYS}
    run["hidden"] = list(run["hidden"])
    run.update(epoch=config["epoch"], n_train=n_train, n_test=n_test, command=train_command(run))
    metrics_path = checkpoint.parent / METRICS_NAME
    if metrics_path.is_file():
        rows = [r for r in json.loads(metrics_path.read_text(encoding="utf-8"))["epochs"]
                if r["epoch"] == config["epoch"]]
        if rows:
            run.update({key: round(float(rows[0][key]), 2) for key in ("test_elbo", "test_log_lik", "test_kl")})
            run["unit"] = "nats/image"
    return run


def save_still(path: Path, coords, labels, extent, images, n_side: int, z_dim: int) -> Path:
    """The page's still figure: the codes' scatter (left) and the decoded means on an n_side x n_side grid of
    the plane (right, top row = largest a_2), for readers without JavaScript."""
    from matplotlib.colors import ListedColormap

    from .plotting import new_figure, save_figure, tile

    fig = new_figure(11.0, 5.2)
    ax = fig.add_subplot(1, 2, 1)
    ax.scatter(coords[:, 0], coords[:, 1], c=labels, cmap=ListedColormap(DIGIT_COLOURS), vmin=-0.5, vmax=9.5,
               s=3, alpha=0.6, linewidths=0)
    for d in range(10):
        ax.scatter([], [], color=DIGIT_COLOURS[d], label=str(d), s=12)
    ax.legend(ncols=5, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), title="digit",
              title_fontsize=8)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    names = ("$z_1$", "$z_2$") if z_dim == 2 else ("$a_1$ (1st principal direction)", "$a_2$ (2nd)")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title("Codes $\\mu(x)$ of the test digits", fontsize=11)
    ax = fig.add_subplot(1, 2, 2)
    ax.imshow(tile(images, n_side, pad=0), cmap="gray", vmin=0, vmax=1, interpolation="nearest",
              extent=extent)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title("Continuous Bernoulli mean of decode(z) on a grid", fontsize=11)
    return save_figure(fig, path)


def store(trainer, layers, extra, z_check, exact_check):
    """Pack the decoder's layers (in the first of :data:`WEIGHT_DTYPES` precise enough) followed by ``extra``.

    Each candidate is loaded back into ``trainer`` and decoded at the codes ``z_check`` (M, D_z); its error is
    the largest absolute difference from ``exact_check`` (:func:`decode_all` of the full-precision decoder).

    Returns:
        ``(blob, table, dtype, error, error16)``: the bytes and table of :func:`pack`, the dtype used, its error
        and the error of float16 weights, each error a dict over ``mean``, ``eta`` and ``logits``.
    """
    named = [(name, a) for k, (W, b) in enumerate(layers) for name, a in ((f"W{k}", W), (f"b{k}", b))]
    error16 = None
    for dtype in WEIGHT_DTYPES:
        blob, table = pack([(name, a.astype(dtype)) for name, a in named] + list(extra))
        set_decoder_layers(trainer, layers_from(unpack(blob, table)))  # the decoder the browser will run
        stored = decode_all(trainer, z_check)
        set_decoder_layers(trainer, layers)
        error = {key: float(np.max(np.abs(stored[key] - exact_check[key]))) for key in ("mean", "eta", "logits")}
        if dtype == "float16":
            error16 = error
        if max(error["mean"], error["eta"]) <= TOLERANCE / 2:  # half the tolerance: room for the browser's sums
            return blob, table, dtype, error, error16
    raise ExportError(f"even float32 weights change the decoded images by up to "
                      f"{max(error['mean'], error['eta']):.2g} (more than {TOLERANCE / 2})")


def export_decoder(checkpoint: str | Path, out_dir: str | Path, data_root: str | Path | None = None,
                   made_by: str | None = None) -> dict:
    """Write decoder.bin, decoder.json, reference.npz and still.png of a checkpoint into ``out_dir``.

    Args:
        checkpoint: ``checkpoint.pt`` or ``checkpoint.npz`` written by ``vaekit train`` (any D_z >= 2).
        out_dir: the folder to write (created if needed); each file is written atomically.
        data_root: folder of the MNIST IDX files (as for ``vaekit train``); the test digits give the scatter.
        made_by: the command that made the export, recorded in decoder.json.

    Returns:
        The content of decoder.json.

    Raises:
        ExportError: unusable checkpoint, D_z < 2, stored weights further than TOLERANCE / 2 from the
            full-precision decoder, or an export larger than :data:`MAX_BYTES`. Missing data raise
            ``vaekit.data.DataError``.
    """
    from .data import load_mnist

    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    trainer, config = load_trainer(checkpoint)
    z_dim = int(config["latent_dim"])
    if z_dim < 2:
        raise ExportError(f"{checkpoint} has D_z = {z_dim}; the page needs a latent space of 2 or more dimensions")
    dataset = config.get("dataset", "mnist")
    x_test, labels = load_mnist("test", data_root, dataset)
    n_train = len(load_mnist("train", data_root, dataset)[1])
    mu = np.asarray(trainer.encode_mean(x_test), np.float64)
    plane = plane_of(mu)
    extent = view_extent(plane["coords"], plane["prior_centre"])

    def to_z(a):
        return (plane["origin"] + np.asarray(a, np.float64) @ plane["axes"]).astype(np.float32)

    layers = decoder_layers(trainer)
    points = reference_points(extent)
    exact = decode_all(trainer, to_z(points))
    grid_side = 15  # the still figure's grid: centres of grid_side x grid_side cells, top row first
    cells = (np.arange(grid_side) + 0.5) / grid_side
    grid = np.array([(extent[0] + u * (extent[1] - extent[0]), extent[3] - v * (extent[3] - extent[2]))
                     for v in cells for u in cells])
    still_images = trainer.decode_mean(to_z(grid))
    check = np.concatenate([points, grid, plane["coords"][:: max(1, len(mu) // 500)]])
    exact_check = decode_all(trainer, to_z(check))

    codes = [("codes", plane["coords"].astype(np.float32)), ("labels", labels.astype(np.uint8))]
    blob, table, dtype, error, error16 = store(trainer, layers, codes, to_z(check), exact_check)

    if len(blob) > MAX_BYTES:
        raise ExportError(f"the export would take {len(blob):,} bytes, more than {MAX_BYTES:,}: a decoder this "
                          f"large is too slow to download for the page; use a smaller --hidden width")
    run = run_summary(config, checkpoint, n_train, len(x_test))
    meta = {
        "format": FORMAT,
        "file": "decoder.bin",
        "bytes": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
        "arrays": table,
        "model": {"z_dim": z_dim, "x_dim": IMAGE_DIM, "image_side": IMAGE_SIDE,
                  "layers": [list(W.shape) for W, _ in layers], "activation": "relu",
                  "likelihood": "continuous Bernoulli"},
        "run": run,
        "made_by": made_by,
        "plane": {"origin": _r(plane["origin"]), "axes": _r(plane["axes"]), "explained": _r(plane["explained"]),
                  "prior_centre": _r(plane["prior_centre"]), "extent": extent},
        "codes": {"n": len(mu), "what": f"encoder means mu(x) of the {len(mu):,} {dataset} test digits"},
        "precision": {"weights": dtype, "tolerance": TOLERANCE, "float16_if_error_below": TOLERANCE / 2,
                      "points_checked": len(check),
                      "max_abs_error": _g(error), "max_abs_error_float16": _g(error16)},
        "digit_colours": list(DIGIT_COLOURS),
        "reference": "reference.npz",
        "still": "still.png",
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, plane=points.astype(np.float32), z=to_z(points), **exact)
    write_bytes(out_dir / "reference.npz", buffer.getvalue())
    save_still(out_dir / "still.png", plane["coords"], labels, extent, still_images, grid_side, z_dim)
    write_bytes(out_dir / "decoder.bin", blob)
    save_json(out_dir / "decoder.json", meta)
    return meta


def _g(error: dict) -> dict:
    """Errors with 3 significant digits (JSON)."""
    return {key: float(f"{value:.3g}") for key, value in error.items()}


def _r(a) -> list:
    """An array as nested lists of floats rounded to 6 decimals (JSON)."""
    return np.round(np.asarray(a, np.float64), 6).tolist()
