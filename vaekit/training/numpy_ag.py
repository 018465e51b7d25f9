"""Training the NumPy/autograd track: the parameter pytree, Adam's state and a ``numpy.random.Generator``.

Mirrors ``vaekit/training/pytorch.py`` method for method. The model code (``init_vae_params``,
``train_epoch``, ``evaluate``, ``encode``, ``decode``, ``cb_mean``) comes from the folder ``config.code``.
The checkpoint is one ``.npz``: the flat parameters theta (``autograd.misc.flatten`` layout), Adam's state,
the epoch, the generator's state and the config as JSON.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
from autograd.misc import flatten

from .. import IMAGE_DIM
from ..autograd_fixes import install_autograd_fixes
from ..io import save_npz
from ..codefolder import Track
from ..threads import set_threads
from .config import TrainConfig
from .figures import in_chunks
from .loop import EVAL_BATCH_SIZE, TrainError
from .memory import keep_freed_memory

DTYPE = np.float32
IWAE_BATCH_ELEMENTS = 8000  # images per pass of the IWAE estimate: this / K


class Trainer:
    """A VAE of the NumPy track being trained; ``params`` and ``state`` change with every epoch."""

    checkpoint_name = "checkpoint.npz"

    def __init__(self, config: TrainConfig):
        self.config = config
        set_threads(config.threads)
        install_autograd_fixes()  # float32 gradients stay float32 (2x faster); quicker VJPs, logaddexp and tape
        keep_freed_memory()  # Adam's temporaries reuse the same pages every step (see memory.py)
        code = Track(config.code, "numpy_ag")
        self.networks, self.train, self.cb = code.networks, code.train, code.continuous_bernoulli
        self.optim = code.optim
        self.rng = np.random.default_rng(config.seed)
        self.params = self.networks.init_vae_params(self.rng, IMAGE_DIM, config.hidden, config.latent_dim, DTYPE)
        theta, self.unflatten = flatten(self.params)
        self.state = self.optim.adam_init(theta)

    def train_epoch(self, x: np.ndarray, progress: bool = False) -> float:
        """One epoch of the track's ``train_epoch`` on images x (N, 784); returns the mean loss (nats/image)."""
        c = self.config
        self.params, self.state, loss = self.train.train_epoch(
            self.params, self.state, x, self.rng, c.batch_size, c.samples, c.lr, progress)
        return float(loss)

    def evaluate(self, x: np.ndarray) -> tuple[float, float, float]:
        """The track's ``evaluate``: mean (ELBO, log-likelihood, KL) over x, nats per image."""
        return self.train.evaluate(self.params, x, self.rng, EVAL_BATCH_SIZE, self.config.samples)

    def iwae(self, x: np.ndarray, n_samples: int) -> float:
        r"""Mean over the images x (N, 784) of the track's ``iwae_log_px`` with K = n_samples, in nats per image.

        eps ~ N(0, I) of shape (K, B, D_z) per batch of B images comes from a generator seeded with the run's
        seed, so the estimate does not depend on how far training went.
        """
        iwae = Track(self.config.code, "numpy_ag").iwae
        rng = np.random.default_rng(self.config.seed)
        decode = partial(self.networks.decode, self.params["decoder"])
        batch = max(1, IWAE_BATCH_ELEMENTS // n_samples)
        total = 0.0
        for start in range(0, len(x), batch):
            xb = x[start : start + batch].astype(DTYPE)
            mu, log_var = self.networks.encode(self.params["encoder"], xb)
            eps = rng.standard_normal((n_samples, len(xb), mu.shape[-1])).astype(DTYPE)
            total += float(np.sum(iwae.iwae_log_px(xb, mu, log_var, eps, decode)))
        return total / len(x)

    def save_checkpoint(self, path: Path, epoch: int) -> Path:
        """Write the checkpoint atomically (see the module docstring)."""
        theta, _ = flatten(self.params)
        adam = {f"adam_{key}": np.asarray(value) for key, value in self.state.items()}
        return save_npz(
            path,
            theta=np.asarray(theta),
            epoch=np.asarray(epoch),
            rng_state=np.asarray(json.dumps(self.rng.bit_generator.state)),
            config=np.asarray(json.dumps(self.config.to_dict())),
            **adam,
        )

    @staticmethod
    def peek_config(path: Path) -> dict:
        """The config stored in a checkpoint, as a dict."""
        with _open_checkpoint(path) as ckpt:
            return json.loads(str(ckpt["config"]))

    def load_checkpoint(self, path: Path) -> int:
        """Restore parameters, Adam's state and the generator from ``path``; return its epoch."""
        with _open_checkpoint(path) as ckpt:
            theta = ckpt["theta"]
            expected, _ = flatten(self.params)
            if theta.shape != expected.shape:
                raise TrainError(f"{path} holds {theta.size} parameters, this model has {expected.size}")
            self.params = self.unflatten(theta.astype(expected.dtype))
            state = {}
            for key in ckpt.files:
                if key.startswith("adam_"):
                    value = ckpt[key]
                    state[key[len("adam_"):]] = value.item() if value.ndim == 0 else value
            self.state = state
            self.rng.bit_generator.state = json.loads(str(ckpt["rng_state"]))
            return int(ckpt["epoch"])

    def encode_mean(self, x: np.ndarray) -> np.ndarray:
        """Encoder means mu (N, D_z) of images x (N, 784)."""
        return np.asarray(self.networks.encode(self.params["encoder"], x.astype(DTYPE))[0])

    def decode_mean(self, z: np.ndarray) -> np.ndarray:
        """The continuous Bernoulli mean cb_mean(decode(z)) (N, 784) of codes z (N, D_z)."""
        def f(zb):
            return np.asarray(self.cb.cb_mean(self.networks.decode(self.params["decoder"], zb.astype(DTYPE))))
        return in_chunks(f, z)


class _open_checkpoint:
    """``np.load`` of a checkpoint, with a one-line TrainError when it is missing or damaged."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __enter__(self):
        try:
            self.npz = np.load(self.path, allow_pickle=False)
            for key in ("theta", "epoch", "config", "rng_state"):
                if key not in self.npz.files:
                    raise KeyError(key)
        except (OSError, ValueError, KeyError) as err:
            raise TrainError(f"{self.path} is not a readable checkpoint of the NumPy track ({err}); delete it "
                             f"or train without --resume") from err
        return self.npz

    def __exit__(self, *exc):
        self.npz.close()
        return False
