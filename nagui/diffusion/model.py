"""Training, saving and loading a diffusion prior (:class:`DiffusionModel`).

Training: draw a clean cell x0 from the training set, a noise level t ~ U(0, 1), corrupt
x0 with the schedule, and minimise the cross-entropy of the denoiser's x0 prediction.
Checkpoints are ``diffusion.json`` (configs, protocol) + ``denoiser.safetensors``,
each written atomically; loading checks that the weights fit the config.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

from .. import __version__
from ..checkpoint_files import mismatch_summary, read_meta, read_tensors, save_checkpoint, tensor_mismatches
from ..errors import NaguiError
from ..progress import Report, cancel_point, quiet
from .denoiser import DenoiserConfig, GraphDenoiser
from .schedule import SCHEDULES, make_schedule
from ..space.cell_space import NB201CellSpace, SearchSpace

CHECKPOINT_FORMAT = "nagui-diffusion/1"
SPACES = {"nb201-cell": NB201CellSpace}


class DiffusionCheckpointError(NaguiError, RuntimeError):
    """A diffusion checkpoint that is missing, unreadable, or from another config."""


@dataclass(frozen=True)
class DiffusionTrainConfig:
    schedule: str = "categorical"     # or "gaussian" (score-based on one-hot)
    train_set: str = "unique"         # NB201: "unique" (6,466 iso classes) or "all"
    steps: int = 3000
    batch_size: int = 256
    lr: float = 2e-3
    width: int = 64
    layers: int = 3
    heads: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choose one of {sorted(SCHEDULES)}")
        for name in ("steps", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"DiffusionTrainConfig.{name} must be a positive int, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"DiffusionTrainConfig.lr must be > 0, got {self.lr!r}")


class DiffusionModel:
    """A trained denoiser with its schedule and space."""

    def __init__(self, space: SearchSpace, config: DiffusionTrainConfig, denoiser: GraphDenoiser, info: dict):
        self.space = space
        self.config = config
        self.schedule = make_schedule(config.schedule, space.num_categories)
        self.denoiser = denoiser.eval()
        self.info = info

    @property
    def device(self) -> torch.device:
        return next(self.denoiser.parameters()).device

    def to(self, device: str | torch.device) -> "DiffusionModel":
        self.denoiser.to(device)
        return self

    # ---- training --------------------------------------------------------------------
    @classmethod
    def train(cls, space: SearchSpace | None = None, config: DiffusionTrainConfig = DiffusionTrainConfig(),
              device: str = "cpu", progress: Report = quiet) -> "DiffusionModel":
        """Fit the denoiser on ``space.training_set(config.train_set)``, reporting every 100 steps."""
        space = space or NB201CellSpace()
        data = space.training_set(config.train_set).to(device)
        torch.manual_seed(config.seed)
        gen = torch.Generator(device=device).manual_seed(config.seed)
        dconf = DenoiserConfig(space.num_nodes, space.num_categories, config.width, config.layers, config.heads)
        denoiser = GraphDenoiser(dconf, space.node_adjacency()).to(device)
        schedule = make_schedule(config.schedule, space.num_categories)
        opt = torch.optim.AdamW(denoiser.parameters(), lr=config.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * s / config.steps)))
        start, running = time.perf_counter(), 0.0
        denoiser.train()
        for step in range(1, config.steps + 1):
            cancel_point()
            x0 = data[torch.randint(0, len(data), (config.batch_size,), generator=gen, device=device)]
            t = torch.rand(config.batch_size, generator=gen, device=device)
            x_t = schedule.noise(x0, t, generator=gen)
            loss = F.cross_entropy(denoiser(x_t, t).reshape(-1, space.num_categories), x0.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 100 == 0 or step == config.steps:
                progress(f"step {step}/{config.steps}: loss {running:.4f}", step / config.steps)
        info = {"space": space.name, "train_cells": len(data), "train_s": round(time.perf_counter() - start, 2),
                "final_loss": round(running, 5), "device": str(device)}
        return cls(space, config, denoiser.cpu(), info)

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """p0: (B, N, K) probabilities of each node's clean category."""
        with torch.inference_mode():
            return torch.softmax(self.denoiser(x_t, t), dim=-1)

    # ---- checkpoints -----------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        meta = {"format": CHECKPOINT_FORMAT, "nagui_version": __version__, "space": self.space.name,
                "train": asdict(self.config), "info": self.info}
        return save_checkpoint(directory, self.denoiser.state_dict(), meta, "diffusion.json", "denoiser.safetensors",
                               CHECKPOINT_FORMAT)

    @classmethod
    def load(cls, directory: str | Path) -> "DiffusionModel":
        meta, meta_path, weights_path = read_meta(directory, "diffusion.json", "denoiser.safetensors",
                                                  CHECKPOINT_FORMAT, DiffusionCheckpointError, "diffusion checkpoint")
        if meta.get("space") not in SPACES:
            raise DiffusionCheckpointError(f"{meta_path}: unknown space {meta.get('space')!r}; known: {sorted(SPACES)}")
        try:
            config = DiffusionTrainConfig(**meta["train"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DiffusionCheckpointError(f"{meta_path} does not describe a diffusion model: {exc}") from None
        space = SPACES[meta["space"]]()
        denoiser = GraphDenoiser(DenoiserConfig(space.num_nodes, space.num_categories, config.width, config.layers,
                                                config.heads), space.node_adjacency())
        tensors = read_tensors(weights_path, DiffusionCheckpointError)
        problems = tensor_mismatches(denoiser.state_dict(), tensors)
        if problems:
            raise DiffusionCheckpointError(
                f"weights in {weights_path} do not fit the config in {meta_path} (width={config.width}, "
                f"layers={config.layers}, heads={config.heads}): {mismatch_summary(problems)}")
        denoiser.load_state_dict(tensors)
        return cls(space, config, denoiser, meta.get("info", {}))
