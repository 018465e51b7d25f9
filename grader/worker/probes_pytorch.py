"""Probes of the PyTorch track (see :mod:`.probes`).

Each probe calls the graded code with inputs the judge sent, and returns what it observed as data: values,
gradients, parameters after training steps, what a spy saw, whether the global generators moved. The judge
compares these with ``grader/reference.npz`` and words the failures; a probe calls :func:`fail` itself only
where the graded code cannot even be set up (a module without the documented layers, a wrong signature).

Inputs arrive as NumPy arrays (or tensors) and become float64 tensors. ``layout`` (see
:func:`.torch_inputs.arguments`) passes them by position, a pair ``("W", "b")`` standing for the linear
decoder ``z -> z @ W + b``.
"""

from __future__ import annotations

import contextlib

import torch

from . import torch_modules as nets
from .probes import probe, spy_as_the_default_step
from .torch_inputs import DTYPES, GlobalRandomness, arguments, as_tensors, call, plain, select, type_of


class _Stop(BaseException):  # not an Exception: graded code that catches those does not swallow it
    """Ends a spied run early: what was seen so far goes back to the judge, which names the problem."""


def _name(function) -> str:
    return getattr(function, "__name__", "the function")


# --- functions -----------------------------------------------------------------------------------------------
@probe
def torch_call(track, function, inputs: dict, layout=None, dtype="float64"):
    """``function`` on the inputs as float64 (or ``dtype``) tensors (``layout``: positional, with a linear decoder)."""
    args, kwargs = arguments(as_tensors(inputs, dtype=dtype), layout)
    return plain(call(_name(function), function, *args, **kwargs))


@probe
def torch_grads(track, function, inputs: dict, wrt, index=None, layout=None, joint=False, dtype="float64",
                weights=None) -> dict:
    """Gradients of sum(function(...)[index]) by torch.autograd with respect to each input named in ``wrt``
    (of sum(weights * function(...)[index]) when ``weights``, an array of the result's shape, is given).

    One call per input, only that input tracking gradients (``joint``: one call, all of them tracking).
    Returns ``{"value": the first result, "type": its type, "requires_grad": {name: bool}, "grads": {name:
    tensor or None (the gradient does not reach it)}}``; no gradient is taken of a result that is not a
    tensor or does not require one.
    """
    groups = [tuple(wrt)] if joint else [(key,) for key in wrt]
    report = {"value": None, "type": None, "requires_grad": {}, "grads": {}}
    for group in groups:
        tensors = as_tensors(inputs, requires_grad=group, dtype=dtype)
        args, kwargs = arguments(tensors, layout)
        raw = call(_name(function), function, *args, **kwargs)
        out = select(raw, index)
        if report["type"] is None:
            report["value"], report["type"] = plain(out), type_of(raw, index)
        ok = isinstance(out, torch.Tensor) and out.requires_grad
        for key in group:
            report["requires_grad"][key] = bool(ok)
            report["grads"][key] = None
        if not ok:
            continue
        total = out.sum() if weights is None else (out * torch.as_tensor(weights, dtype=out.dtype)).sum()
        grads = torch.autograd.grad(total, [tensors[k] for k in group], allow_unused=True)
        for key, g in zip(group, grads):
            report["grads"][key] = None if g is None else g.detach()
    return report


@probe
def torch_gradcheck(track, function, inputs: dict, wrt, index=None, layout=None, eps=1e-6, atol=1e-5,
                    rtol=1e-3) -> dict:
    """``torch.autograd.gradcheck`` in float64 with respect to the inputs named in ``wrt`` (the others fixed).

    Returns ``{"type": type of the result, "requires_grad": bool, "error": None or gradcheck's text}``.
    """
    tensors = as_tensors(inputs, requires_grad=tuple(wrt))
    seen = {"type": None, "requires_grad": None, "error": None}

    def f(*values):
        args, kwargs = arguments({**tensors, **dict(zip(wrt, values))}, layout)
        raw = call(_name(function), function, *args, **kwargs)
        out = select(raw, index)
        ok = isinstance(out, torch.Tensor) and out.requires_grad
        if seen["type"] is None or not ok:
            seen["type"], seen["requires_grad"] = type_of(raw, index), bool(ok)
        if not ok:
            raise _Stop
        return out

    try:
        torch.autograd.gradcheck(f, tuple(tensors[k] for k in wrt), eps=eps, atol=atol, rtol=rtol)
    except _Stop:
        pass
    except NotImplementedError:  # a RuntimeError too: a stub, not a failed check
        raise
    except (RuntimeError, ValueError) as err:
        seen["error"] = str(err).strip()[:3000]
    return seen


@probe
def calls_watching_rngs(track, function, inputs: dict, times: int = 2) -> dict:
    """``function(**inputs)`` called ``times`` times; ``{"results": [...], "changed": [global states that moved]}``."""
    tensors = as_tensors(inputs)
    with GlobalRandomness() as state:
        results = [plain(call(_name(function), function, **tensors)) for _ in range(times)]
    return {"results": results, "changed": state.changed}


# --- modules -------------------------------------------------------------------------------------------------
@probe
def module_layout(track, cls: str, *args, **kwargs) -> dict:
    """``networks.<cls>(*args, **kwargs)``: the weight shapes of its documented Linear layers (out, in), the
    layers whose weight or bias is missing from ``.parameters()``, whether its hidden part(s) hold an
    ``nn.ReLU``."""
    module = nets.make(track, cls, *args, **kwargs)
    found = nets.layers_of(module, cls)
    params = {id(p) for p in module.parameters()}
    parts = [module] if cls != "VAE" else [module.encoder, module.decoder]
    return {
        "shapes": {key: list(linear.weight.shape) for key, linear in found.items()},
        "unregistered": [key for key, linear in found.items()
                         if id(linear.weight) not in params or id(linear.bias) not in params],
        "has_relu": all(any(isinstance(m, torch.nn.ReLU) for m in part.hidden.modules()) for part in parts),
    }


@probe
def module_forward(track, cls: str, flat: dict, sizes, *inputs, dtype="float64"):
    """``networks.<cls>(*sizes)`` in float64 (or ``dtype``) with the frozen weights of ``flat``, called on
    ``inputs`` (as tensors of that dtype)."""
    module = nets.build(track, cls, flat, *sizes, dtype=dtype)
    tensors = [torch.as_tensor(v).to(DTYPES[dtype]) for v in inputs]
    return plain(call(f"{cls}.forward", module, *tensors))


@probe
def module_init(track, cls: str, *args) -> dict:
    """``networks.<cls>(*args)`` as built (its own initialisation): ``{"encoder/to_mu/W": weight.T, ...}`` of every
    documented Linear layer, and ``"fan_in"``: each layer's in_features."""
    module = nets.make(track, cls, *args)
    found = nets.layers_of(module, cls)
    return {"values": nets.layer_values(found), "fan_in": {key: linear.in_features for key, linear in found.items()}}


@probe
def vae_param_grads(track, flat: dict, sizes, x, eps) -> dict:
    """The gradient of sum(VAE(x, eps)[0]) with respect to every layer, by backward(), in the frozen layout.

    Returns ``{"type", "requires_grad", "grads": {"encoder/to_mu/W": weight.grad.T or None, ...}}``.
    """
    vae = nets.build(track, "VAE", flat, *sizes)
    raw = call("VAE.forward", vae, torch.as_tensor(x), torch.as_tensor(eps))
    out = select(raw, 0)
    ok = isinstance(out, torch.Tensor) and out.requires_grad
    report = {"type": type_of(raw, 0), "requires_grad": bool(ok), "grads": {}}
    if ok:
        out.sum().backward()
        report["grads"] = nets.layer_values(nets.vae_layers(vae), "grad")
    return report


def _optimizer(model, name: str, lr: float):
    return {"Adam": torch.optim.Adam, "SGD": torch.optim.SGD}[name](model.parameters(), lr=lr)


def _bound(track, model, x, eps, bound: str):
    """The per-example objective with the model's current weights: VAE(x, eps)[0] or iwae_log_px."""
    with torch.no_grad():
        if bound == "iwae":
            mu, log_var = model.encoder(x)
            return plain(track.function("iwae.iwae_log_px")(x, mu, log_var, eps, model.decoder))
        return plain(select(model(x, eps), 0))


@probe
def train_steps(track, step: str, flat: dict, sizes, x, eps, optimizer="Adam", lr=0.01, steps=1, bound=None,
                more_eps=()) -> dict:
    """``steps`` calls of the graded ``step`` ("optim.train_step" or "iwae_train.iwae_train_step") on a VAE with
    the frozen weights of ``flat`` and a fresh ``torch.optim.<optimizer>``.

    Returns ``{"losses": [what each call returned], "grads": [[p.grad or None for p in model.parameters()]
    after each call], "params": {"encoder/to_mu/W": weight.T, ...} after the last, "before"/"after": the
    objective per example ("elbo": VAE(x, eps)[0]; "iwae": iwae_log_px) before the first and after the last
    call, if ``bound`` is given; "params_each": the parameters after each call; "changed": global random states
    that the calls moved}``. Call i gets ``eps`` or, with ``more_eps``, ``[eps, *more_eps][i]`` (one optimiser
    for all the calls: its state carries over from call to call).
    """
    model = nets.build(track, "VAE", flat, *sizes)
    opt = _optimizer(model, optimizer, lr)
    x, eps = torch.as_tensor(x), torch.as_tensor(eps)
    all_eps = [eps, *(torch.as_tensor(e) for e in more_eps)]
    steps = max(steps, len(all_eps)) if more_eps else steps
    function = track.function(step)
    report = {"losses": [], "grads": [], "params_each": []}
    if bound:
        report["before"] = _bound(track, model, x, eps, bound)
    with GlobalRandomness() as state:
        for i in range(steps):
            e = all_eps[min(i, len(all_eps) - 1)]
            report["losses"].append(plain(call(step.rsplit(".", 1)[-1], function, model, opt, x, e)))
            report["grads"].append([None if p.grad is None else p.grad.detach().clone() for p in model.parameters()])
            report["params_each"].append(nets.layer_values(nets.vae_layers(model)))
    report["changed"] = state.changed
    report["params"] = report["params_each"][-1] if steps else nets.layer_values(nets.vae_layers(model))
    if bound:
        report["after"] = _bound(track, model, x, eps, bound)
    return report


@probe
def encoder_gradient_run(track, flat: dict, sizes, x, eps, estimator: str, baseline) -> dict:
    """``estimators.encoder_gradient(model, x, eps, estimator, baseline)`` on a VAE with frozen weights.

    Returns ``{"result", "order": the frozen key of each tensor of model.encoder.parameters(), in order,
    "grads_left": whether any parameter's .grad was set}``.
    """
    model = nets.build(track, "VAE", flat, *sizes)
    function = track.function("estimators.encoder_gradient")
    result = call("encoder_gradient", function, model, torch.as_tensor(x), torch.as_tensor(eps), estimator,
                  torch.as_tensor(baseline))
    return {"result": plain(result), "order": nets.parameter_keys(model.encoder, nets.layers(model.encoder, "encoder")),
            "grads_left": any(p.grad is not None for p in model.parameters())}


# --- training and evaluation ---------------------------------------------------------------------------------
def _copy(value):
    return plain(value.detach().clone() if isinstance(value, torch.Tensor) else value)


def _elbo_at_zero_noise(model, x, z_dim: int):
    with torch.no_grad():
        return plain(select(model(x, torch.zeros((1, len(x), z_dim), dtype=x.dtype)), 0))


@probe
def train_epochs(track, flat: dict, sizes, x, generator, epochs=1, lr=0.01, spy=False, stop_at_bad_eps=False,
                 measure=False, planted_losses=None, given=False, **kwargs) -> dict:
    """``epochs`` calls of ``train.train_epoch(model, optimizer, x, generator, **kwargs)`` on a VAE with the
    weights of ``flat`` and one ``torch.optim.Adam(lr)``.

    Returns ``{"losses", "params": [model.parameters() after], "changed": global random states that the
    epochs moved}``; with ``measure``, ``"before"``/``"after"``: VAE(x, eps = 0)[0]; with ``spy``, a spy is
    train_epoch's step: with ``given``, passed as ``step=spy``; otherwise standing in for train_step as the default
    (:func:`~.probes.spy_as_the_default_step`); and ``"batches"``: ``[{"x": minibatch, "eps": its eps}]`` as
    the step got them and ``"step_losses"``: what it returned for each: the loss of the real ``train_step`` (the
    spy calls it), or with ``planted_losses`` the next of those numbers (the model is then left as it is).
    With ``stop_at_bad_eps`` the run stops at the first eps that is not a tensor of shape (n_samples, B, z_dim)
    and the dtype of the minibatch.
    """
    model = nets.build(track, "VAE", flat, *sizes)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x = torch.as_tensor(x)
    z_dim = sizes[2]
    train_epoch = track.function("train.train_epoch")
    report = {"losses": [], "batches": [], "step_losses": []}
    if measure:
        report["before"] = _elbo_at_zero_noise(model, x, z_dim)
    real_step = track.function("train.train_step") if spy and (planted_losses is None or not given) else None
    n_samples = kwargs.get("n_samples", 1)

    def spy_step(model, optimizer, xb, eps):
        report["batches"].append({"x": _copy(xb), "eps": _copy(eps)})
        if stop_at_bad_eps and not (isinstance(eps, torch.Tensor) and eps.dtype == xb.dtype
                                    and tuple(eps.shape) == (n_samples, len(xb), z_dim)):
            raise _Stop
        if planted_losses is None:
            loss = real_step(model, optimizer, xb, eps)
        else:
            loss = float(planted_losses[len(report["step_losses"]) % len(planted_losses)])
        report["step_losses"].append(plain(loss))
        return loss

    default = contextlib.nullcontext()
    if spy and given:
        kwargs["step"] = spy_step
    elif spy:  # the spy stands in for train_step as the default step: the default path is the one observed
        default = spy_as_the_default_step(train_epoch, [track.module("train"), track.module("optim")], real_step,
                                          spy_step)
    try:
        with default, GlobalRandomness() as state:
            for _ in range(epochs):
                report["losses"].append(plain(call("train_epoch", train_epoch, model, opt, x, generator, **kwargs)))
    except _Stop:
        pass
    report["changed"] = state.changed
    report["params"] = [p.detach().clone() for p in model.parameters()]
    if measure:
        report["after"] = _elbo_at_zero_noise(model, x, z_dim)
    return report


@probe
def evaluate_runs(track, flat: dict, sizes, x, generators, **kwargs) -> dict:
    """``train.evaluate(model, x, generator, **kwargs)`` once per generator, on one VAE with the weights of ``flat``.

    Returns ``{"results", "grad_modes": torch.is_grad_enabled() at each call of model.encoder, "grads_left":
    whether any parameter's .grad was set, "changed": global random states that the calls moved}``.
    """
    model = nets.build(track, "VAE", flat, *sizes)
    grad_modes = []
    model.encoder.register_forward_pre_hook(lambda module, args: grad_modes.append(torch.is_grad_enabled()))
    evaluate = track.function("train.evaluate")
    x = torch.as_tensor(x)
    with GlobalRandomness() as state:
        results = [plain(call("evaluate", evaluate, model, x, g, **kwargs)) for g in generators]
    return {"results": results, "grad_modes": grad_modes, "changed": state.changed,
            "grads_left": any(p.grad is not None for p in model.parameters())}


# --- challenge exercises --------------------------------------------------------------------------------------
@probe
def torch_grad_with_options(track, function, x, options: dict, dtype="float64") -> dict:
    """``function(x, **options)`` with ``x`` a tensor of ``dtype`` that tracks gradients, and the options (ints,
    bools: ``dim``, ``keepdim``) passed as they are; the gradient of the sum of the result by torch.autograd.

    Returns ``{"value": the result, "type": its type, "requires_grad": bool, "grad": tensor or None}``.
    """
    tensor = as_tensors({"x": x}, requires_grad=("x",), dtype=dtype)["x"]
    raw = call(_name(function), function, tensor, **options)
    report = {"value": plain(raw), "type": type_of(raw), "requires_grad": False, "grad": None}
    if isinstance(raw, torch.Tensor) and raw.requires_grad:
        report["requires_grad"] = True
        (g,) = torch.autograd.grad(raw.sum(), [tensor], allow_unused=True)
        report["grad"] = None if g is None else g.detach()
    return report
