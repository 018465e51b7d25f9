"""Training the PyTorch track: a ``VAE`` module, ``torch.optim.Adam`` and a ``torch.Generator``.

Mirrors ``vaekit/training/numpy_ag.py`` method for method. The model code (``VAE``, ``train_epoch``,
``evaluate``, ``cb_mean``) comes from the folder ``config.code``. The checkpoint is one ``torch.save`` file:
the model's and the optimiser's state dicts, the epoch, the generator's state and the config.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .. import IMAGE_DIM
from ..io import torch_save
from ..pixels import eta_clip_logit
from ..codefolder import Track
from ..threads import set_threads
from .config import TrainConfig
from .figures import in_chunks
from .loop import EVAL_BATCH_SIZE, TrainError
from .memory import keep_freed_memory

# Images per forward pass of the IWAE estimate: K * IWAE_BATCH_ELEMENTS / K images of K samples each.
IWAE_BATCH_ELEMENTS = 8000

DTYPE = torch.float32


class Trainer:
    """A VAE of the PyTorch track being trained; ``model`` and ``optimizer`` change with every epoch."""

    checkpoint_name = "checkpoint.pt"

    def __init__(self, config: TrainConfig):
        self.config = config
        if config.device == "cuda" and not torch.cuda.is_available():
            raise TrainError("--device cuda: no CUDA device is available to PyTorch here; use --device cpu")
        self.device = torch.device(config.device)
        set_threads(config.threads)
        keep_freed_memory()
        code = Track(config.code, "pytorch")
        self.networks, self.train, self.cb = code.networks, code.train, code.continuous_bernoulli
        with torch.random.fork_rng(devices=[]):  # seeds the initial weights without touching the global RNG
            torch.manual_seed(config.seed)
            model = self.networks.VAE(IMAGE_DIM, config.hidden, config.latent_dim)
        self.model = model.to(device=self.device, dtype=DTYPE)
        if config.eta_clip > 0:
            self.model.decoder.register_forward_hook(clamp_logits_hook(eta_clip_logit(config.eta_clip)))
        self.adam_fused = fused_adam_available(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, fused=self.adam_fused or None)
        self.generator = torch.Generator().manual_seed(config.seed)

    def train_epoch(self, x: np.ndarray, progress: bool = False) -> float:
        """One epoch of the track's ``train_epoch`` on images x (N, 784); returns the mean loss (nats/image)."""
        c = self.config
        self.model.train()
        return float(self.train.train_epoch(
            self.model, self.optimizer, self._tensor(x), self.generator, c.batch_size, c.samples, progress))

    def evaluate(self, x: np.ndarray) -> tuple[float, float, float]:
        """The track's ``evaluate``: mean (ELBO, log-likelihood, KL) over x, nats per image."""
        self.model.eval()
        return self.train.evaluate(self.model, self._tensor(x), self.generator, EVAL_BATCH_SIZE,
                                   self.config.samples)

    def iwae(self, x: np.ndarray, n_samples: int) -> float:
        r"""Mean over the images x (N, 784) of the track's ``iwae_log_px`` with K = n_samples, in nats per image.

        eps ~ N(0, I) of shape (K, B, D_z) per batch of B images comes from a generator seeded with the run's
        seed, so the estimate does not depend on how far training went.
        """
        self.model.eval()
        iwae = Track(self.config.code, "pytorch").iwae
        generator = torch.Generator().manual_seed(self.config.seed)
        batch = max(1, IWAE_BATCH_ELEMENTS // n_samples)
        total = 0.0
        with torch.no_grad():
            for start in range(0, len(x), batch):
                xb = self._tensor(x[start : start + batch])
                mu, log_var = self.model.encoder(xb)
                eps = torch.randn((n_samples, len(xb), mu.shape[-1]), generator=generator, dtype=DTYPE)
                total += float(torch.sum(iwae.iwae_log_px(xb, mu, log_var, eps.to(self.device), self.model.decoder)))
        return total / len(x)

    def save_checkpoint(self, path: Path, epoch: int) -> Path:
        """Write the checkpoint atomically (see the module docstring)."""
        return torch_save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "epoch": epoch,
                "generator": self.generator.get_state(),
                "config": self.config.to_dict(),
            },
            path,
        )

    @staticmethod
    def peek_config(path: Path) -> dict:
        """The config stored in a checkpoint, as a dict."""
        return _load(path)["config"]

    def load_checkpoint(self, path: Path) -> int:
        """Restore the model, the optimiser and the generator from ``path``; return its epoch."""
        ckpt = _load(path)
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
        except (RuntimeError, ValueError, KeyError) as err:
            first_line = str(err).strip().splitlines()[0]
            raise TrainError(f"{path} does not fit this model: {first_line}") from err
        for group in self.optimizer.param_groups:  # the step size is this run's --lr, the kernel this torch's
            group["lr"] = self.config.lr
            group["fused"], group["foreach"] = self.adam_fused or None, None
        if self.adam_fused:  # the fused kernel keeps Adam's step count as a float32 tensor beside the parameter
            for param, state in self.optimizer.state.items():
                if "step" in state:
                    state["step"] = torch.as_tensor(state["step"], dtype=torch.float32, device=param.device)
        self.generator.set_state(ckpt["generator"])
        return int(ckpt["epoch"])

    def encode_mean(self, x: np.ndarray) -> np.ndarray:
        """Encoder means mu (N, D_z) of images x (N, 784)."""
        with torch.no_grad():
            mu, _ = self.model.encoder(self._tensor(x))
        return mu.cpu().numpy()

    def decode_mean(self, z: np.ndarray) -> np.ndarray:
        """The continuous Bernoulli mean cb_mean(decoder(z)) (N, 784) of codes z (N, D_z)."""
        def f(zb):
            with torch.no_grad():
                return self.cb.cb_mean(self.model.decoder(self._tensor(zb))).cpu().numpy()
        return in_chunks(f, z)

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device=self.device, dtype=DTYPE)


def fused_adam_available(device: torch.device) -> bool:
    r"""Whether this torch has the fused Adam kernel for ``device`` (CPU: torch >= 2.4).

    The fused kernel does Adam's update of a parameter tensor in one pass,

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \theta \leftarrow \theta - \alpha\,\frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon},

    where the default implementation makes about ten passes over the 652,824 parameters of 784-400-20 (a fifth
    of a training step's time). Same update, same float32; the last bit of a result can differ by rounding.
    """
    try:
        probe = torch.zeros(1, device=device, requires_grad=True)
        probe.grad = torch.zeros_like(probe)
        torch.optim.Adam([probe], fused=True).step()
    except (RuntimeError, ValueError, TypeError):
        return False
    return True


def clamp_logits_hook(bound: float):
    r"""A forward hook for the decoder that clamps its logits to [-bound, bound], i.e. eta = sigmoid(l) to
    [sigmoid(-bound), sigmoid(bound)] (see :func:`vaekit.pixels.eta_clip_logit`).

    .. math::
        l \mapsto \min(\max(l, -b), b)

    Like ``tf.clip_by_value`` on eta in the continuous Bernoulli paper's code, the clamp passes no gradient
    to a logit beyond the bound. The model's parameters and checkpoint are unchanged: the hook is set again
    from ``--eta-clip`` whenever a Trainer is made.
    """
    def hook(module, inputs, logits):
        return torch.clamp(logits, -bound, bound)

    return hook


def _load(path: Path) -> dict:
    """``torch.load`` a checkpoint (tensors and plain values only), with a one-line TrainError when damaged."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        for key in ("model", "optimizer", "epoch", "generator", "config"):
            if key not in ckpt:
                raise KeyError(key)
    except Exception as err:  # torch raises many kinds (pickle errors, RuntimeError, EOFError, ...)
        raise TrainError(f"{path} is not a readable checkpoint of the PyTorch track ({type(err).__name__}: "
                         f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}); delete it or train "
                         f"without --resume") from err
    return ckpt
