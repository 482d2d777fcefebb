"""Graph diffusion over architectures, guided by the multi-objective predictor.

    space.py        SearchSpace interface; NB201CellSpace (6 op nodes x 5 ops)
    schedule.py     noise: categorical (default) or Gaussian on one-hot; one reverse step
    denoiser.py     graph transformer predicting each node's clean category
    model.py        training, safetensors checkpoints
    objectives.py   differentiable objectives of a node-wise distribution
    guidance.py     preferences, Chebyshev/weighted scalarisation, the guidance tilt
    constraints.py  hard constraints and the feasible set
    sampler.py      the reverse process, feasible decoding, the corrector
    problem.py      dataset + objectives -> guiding predictor and Guidance
    evaluate.py     validity, uniqueness, novelty, front metrics, distances
    generate.py     request -> samples + records + metrics (CLI, bench, app)
"""
from .constraints import ConstraintError, Constraints, InfeasibleConstraintsError, parse_latency_limit
from .guidance import Guidance, PreferenceError, parse_preferences, spread_preferences
from .model import DiffusionCheckpointError, DiffusionModel, DiffusionTrainConfig
from ..problem import Problem, ProblemError
from .problem import PredictorSpec
from .sampler import Sampler, Samples
from ..space.cell_space import NB201CellSpace, SearchSpace

__all__ = ["ConstraintError", "Constraints", "DiffusionCheckpointError", "DiffusionModel", "DiffusionTrainConfig",
           "Guidance", "InfeasibleConstraintsError", "NB201CellSpace", "PredictorSpec", "Problem", "ProblemError",
           "Sampler", "Samples", "SearchSpace", "parse_latency_limit", "PreferenceError", "parse_preferences",
           "spread_preferences"]
