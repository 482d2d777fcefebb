"""Zero-cost proxies: a score of an untrained network from one batch, no training.

They rank cells without a single label, so they are features for a predictor and what a
user with their own dataset (no table) can compute for any cell.

- :func:`synflow` (Tanaka et al. 2020): data-free. With every weight replaced by its
  absolute value and an all-ones input, sum over parameters of ``|theta * dR/dtheta|``
  where R is the sum of the outputs. Computed in float64 with BatchNorm as identity.
- :func:`jacov` (Mellor et al. 2020, v1): from the Jacobians of the outputs w.r.t. a batch
  of images: ``-sum(log(e + k) + 1 / (e + k))`` over the eigenvalues e of their
  correlation matrix (k = 1e-5). Higher: inputs are told apart better.
- :func:`nwot` (Mellor et al. 2021, NASWOT): log-determinant of the Hamming-similarity
  kernel of the ReLUs' binary activation codes on a batch.

:func:`cell_proxies` scores a cell (its pruned NB201 network, ``NetConfig`` chosen by the
caller) with all three; the network's random weights come from ``seed``.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from ..nets.nb201_net import build_network
from ..space import Arch, NetConfig

PROXIES = ("synflow", "jacov", "nwot")


def synflow(model: nn.Module, input_shape: tuple[int, ...]) -> float:
    """Data-free synaptic-flow score of ``model`` for inputs of ``input_shape`` (C, H, W)."""
    net = _copy_for_scoring(model).double()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    out = net(torch.ones((1, *input_shape), dtype=torch.float64))
    out.sum().backward()
    with torch.no_grad():
        total = sum(float((p * p.grad).abs().sum()) for p in net.parameters() if p.grad is not None)
    return math.log(total) if total > 0 else float("-inf")   # the raw sum spans many decades


def jacov(model: nn.Module, images: torch.Tensor) -> float:
    """Jacobian covariance score on a batch ``images`` (B, C, H, W), B >= 2."""
    net = model.eval()
    x = images.detach().clone().float().requires_grad_(True)
    out = net(x)
    (grad,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
    if grad is None:                  # the output does not depend on the input (disconnected cell)
        return float("-inf")
    jac = grad.reshape(len(x), -1).double().numpy()
    corr = np.corrcoef(jac)
    if not np.isfinite(corr).all():   # a constant Jacobian (e.g. a disconnected cell)
        return float("-inf")
    eig = np.linalg.eigvalsh(corr)
    k = 1e-5
    return float(-np.sum(np.log(eig + k) + 1.0 / (eig + k)))


def nwot(model: nn.Module, images: torch.Tensor) -> float:
    """NASWOT score: log|K| of the ReLU activation codes' kernel on ``images`` (B, C, H, W)."""
    codes: list[torch.Tensor] = []

    def hook(_module, inputs, _output):
        codes.append((inputs[0].detach().reshape(len(images), -1) > 0).double())

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            model.eval()(images.float())
    finally:
        for h in handles:
            h.remove()
    if not codes:
        return float("-inf")
    c = torch.cat(codes, dim=1)
    kernel = c @ c.T + (1 - c) @ (1 - c).T
    sign, logdet = torch.linalg.slogdet(kernel)
    return float(logdet) if float(sign) > 0 else float("-inf")


def cell_proxies(arch: Arch | str, images: torch.Tensor, config: NetConfig = NetConfig(), seed: int = 0,
                 names: tuple[str, ...] = PROXIES) -> dict[str, float]:
    """The proxies ``names`` of ``arch``'s pruned network with random weights (seeded) on ``images``."""
    unknown = [n for n in names if n not in PROXIES]
    if unknown:
        raise ValueError(f"unknown proxies {unknown}; choose from {PROXIES}")
    torch.manual_seed(seed)
    net = build_network(arch, config, pruned=True)
    score = {"synflow": lambda: synflow(net, tuple(images.shape[1:])), "jacov": lambda: jacov(net, images),
             "nwot": lambda: nwot(net, images)}
    return {n: score[n]() for n in names}


def _copy_for_scoring(model: nn.Module) -> nn.Module:
    """A copy with every BatchNorm an identity (synflow's linearised network)."""
    net = copy.deepcopy(model).eval()
    for module in list(net.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(module, child_name, nn.Identity())
    return net
