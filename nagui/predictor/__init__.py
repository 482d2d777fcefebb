"""The multi-objective, task-aware performance predictor.

- :class:`Predictor` — a calibrated deep ensemble of graph networks (:class:`CellGNN`, and
  :class:`DagExecNet` in plain predictors), one head per objective (names of the table
  convention), 90% intervals, safetensors checkpoints.
- :mod:`.transfer` — pretrain on source tasks, adapt from k target cells.
- :mod:`.device` — this machine as a new latency device (``latency@local``).
- :mod:`.evaluate` — the protocols behind ``nagui bench predictor``.
"""
from .ensemble import FREE_OBJECTIVES, CheckpointError, Prediction, Predictor, TrainConfig
from .model import CellGNN, DagExecNet, ModelConfig

__all__ = ["FREE_OBJECTIVES", "CellGNN", "CheckpointError", "DagExecNet", "ModelConfig", "Prediction", "Predictor",
           "TrainConfig"]
