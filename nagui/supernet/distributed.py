"""What training needs from torch.distributed, and nothing when it runs in one process.

Launched by ``torchrun --nproc_per_node=N`` (WORLD_SIZE, RANK and LOCAL_RANK in the
environment) :func:`process_group` initialises the process group (NCCL on CUDA, gloo on
the CPU) and every rank trains its share of each batch; in a plain process the helpers
here do nothing. Torch threads are split over the ranks so they do not fight for cores.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import torch
import torch.distributed as dist     # importing it is cheap (torch itself already does); no group is started

from ..measure.cache import cpu_name
from ..nets.supernet import SuperNetSpec
from ..space import live_edges


@contextmanager
def process_group(device: str):
    """(rank, world_size, device) — initialising the process group when launched by torchrun."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = torch.device(device)
    if dev.type == "cuda" and world_size > 1:
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
    owned = False
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
        owned = True
    try:
        yield rank, world_size, dev
    finally:
        if owned:
            dist.destroy_process_group()


def all_mean(values: list[float], world_size: int, device: torch.device) -> list[float]:
    """The mean of ``values`` over all ranks (``values`` itself in one process)."""
    if world_size == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return (t / world_size).tolist()


def barrier(world_size: int) -> None:
    if world_size > 1:
        dist.barrier()


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                      # not on Linux
        return os.cpu_count() or 1


def threads_per_rank(world_size: int) -> int:
    """Torch threads per process: OMP_NUM_THREADS when set, else the cores split over the ranks."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        return max(1, cpu_cores() // world_size)


def has_unused_parameters(spec: SuperNetSpec) -> bool:
    """Whether some weights sit on super-cell edges no mask computes (then DDP must look for them)."""
    alive = live_edges(spec.super_cell)
    return any(op.startswith("nor_conv") and not alive[k] for k, op in enumerate(spec.super_cell.ops))


def device_name(device) -> str:
    """A readable name of the torch device: the CUDA device's name, else the CPU model."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (cuda)"
    return f"{cpu_name()} (cpu, {cpu_cores()} cores)"


__all__ = ["all_mean", "barrier", "cpu_cores", "device_name", "has_unused_parameters", "process_group", "threads_per_rank"]
