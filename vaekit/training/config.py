"""The settings of a training run: one frozen dataclass whose fields are the flags of ``vaekit train``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

TRACKS = ("numpy_ag", "pytorch")
DEVICES = ("cpu", "cuda")
# How the bytes become pixels: (b + u)/256 with fresh u each epoch, or b/255 (see vaekit/pixels.py).
PIXELS = ("dequantised", "raw")


@dataclass(frozen=True)
class TrainConfig:
    """One training run; each field is the flag of the same name (``latent_dim`` is ``--latent-dim``).

    Attributes:
        track: ``"numpy_ag"`` or ``"pytorch"``.
        code: whose implementation to train: ``"exercises"``, ``"solutions"`` or a folder laid out like
            ``exercises/``.
        data_root: folder with the MNIST IDX files (None: ``$VAEKIT_DATA_ROOT`` or ``./data``).
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        download: download the data with torchvision when they are not found.
        epochs: total number of epochs (a resumed run continues up to this number).
        batch_size: B, images per minibatch.
        lr: Adam step size.
        latent_dim: D_z.
        hidden: hidden widths of the encoder, from the x side; the decoder mirrors them.
        samples: K, Monte Carlo samples per image in the ELBO.
        seed: seeds the initial weights, the shuffling and every eps.
        out: output folder (None: ``runs/<track>``).
        max_batches: if set, each epoch trains on this many random minibatches only, and the test ELBO uses
            the first ``max_batches * batch_size`` test images (a quick check, not a real run).
        device: ``"cpu"`` or ``"cuda"`` (PyTorch track only).
        resume: continue from the checkpoint in ``out``.
        threads: threads of BLAS and PyTorch (0: the libraries' defaults, all cores); see ``vaekit/threads.py``.
        pixels: ``"dequantised"``: train on x = (byte + u)/256 with fresh u ~ U(0, 1) every epoch, evaluate on
            test pixels dequantised with noise from a fixed seed, and report the bound in bits per dimension
            on the bytes; ``"raw"``: x = byte/255, the data as ``load_mnist`` gives them (no bits/dim per
            epoch: a density at these points is not a probability of the bytes).
        eval_draws: number of dequantisation draws of the test set the test numbers average over.
        eta_clip: if > 0, clip eta = sigmoid(l) to [eta_clip, 1 - eta_clip] by clamping the decoder's logits
            (the continuous Bernoulli paper's code uses 1e-4); 0 leaves the logits alone. PyTorch track only.
        iwae_samples: K of the importance-weighted estimate of log p(x) computed once after training on
            dequantised test pixels (0: none).
        iwae_images: how many test images (the first ones) that estimate uses.
    """

    track: str = "numpy_ag"
    code: str = "exercises"
    data_root: str | None = None
    dataset: str = "mnist"
    download: bool = False
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    latent_dim: int = 20
    hidden: tuple[int, ...] = (400,)
    samples: int = 1
    seed: int = 0
    out: str | None = None
    max_batches: int | None = None
    device: str = "cpu"
    resume: bool = False
    threads: int = 1
    pixels: str = "dequantised"
    eval_draws: int = 1
    eta_clip: float = 0.0
    iwae_samples: int = 0
    iwae_images: int = 1000

    def __post_init__(self):
        if self.track not in TRACKS:
            raise ValueError(f"unknown track {self.track!r}; choose one of: {', '.join(TRACKS)}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; choose one of: {', '.join(DEVICES)}")
        if self.device != "cpu" and self.track != "pytorch":
            raise ValueError(f"--device {self.device} needs --track pytorch; the NumPy track runs on the CPU")
        for name in ("epochs",):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.pixels not in PIXELS:
            raise ValueError(f"unknown pixels {self.pixels!r}; choose one of: {', '.join(PIXELS)}")
        if not 0.0 <= self.eta_clip < 0.5:
            raise ValueError(f"eta_clip must lie in [0, 0.5) (0: no clipping; the CB paper's code uses 1e-4), "
                             f"got {self.eta_clip}")
        if self.eta_clip > 0 and self.track != "pytorch":
            raise ValueError("--eta-clip needs --track pytorch (it clamps the logits of the PyTorch decoder with "
                             "a forward hook); the NumPy track trains without clipping")
        if self.iwae_samples < 0:
            raise ValueError(f"iwae_samples must be >= 0, got {self.iwae_samples}")
        for name in ("batch_size", "latent_dim", "samples", "eval_draws", "iwae_images"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0, got {self.threads}")
        if self.max_batches is not None and self.max_batches < 1:
            raise ValueError(f"max_batches must be >= 1, got {self.max_batches}")
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden must list positive widths, got {self.hidden}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))

    @property
    def out_dir(self) -> Path:
        """The output folder: ``out`` or ``runs/<track>``."""
        return Path(self.out) if self.out is not None else Path("runs") / self.track

    def to_dict(self) -> dict:
        """The fields as JSON-ready values (``hidden`` as a list)."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        if "hidden" in kwargs:
            kwargs["hidden"] = tuple(kwargs["hidden"])
        return cls(**kwargs)


# Settings that must equal the checkpoint's when a run is resumed: they fix the model's shape and data.
ARCHITECTURE_FIELDS = ("track", "dataset", "latent_dim", "hidden", "pixels", "eta_clip")


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"400"`` -> (400,); ``"512,256"`` -> (512, 256). Raises ValueError on anything else."""
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(not p.isdigit() or int(p) < 1 for p in parts):
        raise ValueError(f"expected positive integers separated by commas, e.g. 400 or 512,256; got {text!r}")
    return tuple(int(p) for p in parts)
