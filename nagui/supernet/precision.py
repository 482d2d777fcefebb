"""The precision the super-network trains in: bf16 autocast where the hardware multiplies bf16
fast (CUDA; CPUs with AMX tiles, e.g. Intel Sapphire Rapids), fp32 elsewhere. Weights,
gradients, the optimizer and BN statistics stay fp32 under autocast, and every measurement
(held-out accuracy, BN recalibration, export, latency) runs in fp32.

Measured on a 2-core Intel Xeon with AMX (the quick preset's network, batch 128): 670-695 ->
1,195-1,243 images/s for the largest mask, 284-286 -> 474-487 in sandwich steps
(BENCHMARKS.md, issue #19). ``NAGUI_TRAIN_PRECISION=fp32`` trains in fp32 anyway.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import torch

PRECISION_ENV = "NAGUI_TRAIN_PRECISION"     # "fp32" forces fp32; "auto" (default) chooses as above
CHOICES = ("auto", "fp32")


@lru_cache(maxsize=1)
def cpu_has_amx() -> bool:
    """The CPU has AMX bf16 tiles (Linux flags) and torch's oneDNN runs bf16 on it."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags and bool(torch.backends.mkldnn.is_available()) \
        and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def requested() -> str:
    value = os.environ.get(PRECISION_ENV, "auto").strip().lower() or "auto"
    if value not in CHOICES:
        raise ValueError(f"{PRECISION_ENV}={value!r}: choose one of {', '.join(CHOICES)}")
    return value


def autocast_dtype(device: torch.device | str) -> torch.dtype | None:
    """bf16 where training should autocast to it on ``device``, None for fp32."""
    if requested() == "fp32":
        return None
    kind = torch.device(device).type
    if kind == "cuda" or (kind == "cpu" and cpu_has_amx()):
        return torch.bfloat16
    return None


def precision_name(device: torch.device | str) -> str:
    """What a run records: "bf16 autocast (cuda)", "bf16 autocast (cpu, AMX)" or "fp32"."""
    if autocast_dtype(device) is None:
        return "fp32"
    kind = torch.device(device).type
    return "bf16 autocast (cpu, AMX)" if kind == "cpu" else f"bf16 autocast ({kind})"


__all__ = ["PRECISION_ENV", "autocast_dtype", "cpu_has_amx", "precision_name"]
