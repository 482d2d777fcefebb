"""REINFORCE (Williams, 1992), NB201's reinforcement-learning baseline.

The policy is factorised over the cell's 6 edges: one softmax over the 5 ops per edge
(30 logits, all 0 at the start: the uniform policy). Each ask samples one cell; its
target accuracy (as a fraction) is the reward, and the logits take one Adam step along
``(reward - baseline) * grad log p(cell)``, where the baseline is an exponential moving
average of the rewards (momentum ``baseline_momentum``), as in NB201's own REINFORCE
(Dong & Yang, 2020: Adam, EMA baseline).

A sampled cell the run has already trained costs nothing: its known reward updates the
policy, and the policy samples again (up to ``resamples`` times) until it proposes a cell
it has not trained. A policy that has collapsed onto trained cells then trains an
untrained one-op neighbour of its sample (or a random untrained cell). Single objective
(the target accuracy).

``lr = 0.1`` was chosen on CIFAR-10 (20 seeds, budget 100; best accuracy after 20 / 50 /
100 trained architectures): lr 0.01 93.45 / 93.64 / 93.90, 0.05 93.51 / 93.73 / 93.97,
0.1 93.53 / 93.86 / 94.05.
"""
from __future__ import annotations

import numpy as np

from .cells import NUM_EDGES, NUM_OPS
from ..problem import Problem
from .strategy import SearchContext, SingleObjectiveStrategy


class Adam:
    """Adam (Kingma and Ba, 2015) on one array: ``step(g)`` is what to subtract from it."""

    def __init__(self, shape: tuple[int, ...], lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m, self.v, self.steps = np.zeros(shape), np.zeros(shape), 0

    def step(self, g: np.ndarray) -> np.ndarray:
        self.steps += 1
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        m_hat, v_hat = self.m / (1 - self.b1 ** self.steps), self.v / (1 - self.b2 ** self.steps)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class Reinforce(SingleObjectiveStrategy):
    name = "reinforce"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext,
                 lr: float = 0.1, baseline_momentum: float = 0.9, resamples: int = 100):
        super().__init__(problem, rng, context)
        self.momentum, self.resamples = baseline_momentum, resamples
        self.logits = np.zeros((NUM_EDGES, NUM_OPS))
        self.optimiser = Adam(self.logits.shape, lr)
        self.baseline: float | None = None
        self.rewards: dict[int, float] = {}

    def probabilities(self) -> np.ndarray:
        """(6, 5) the policy: per edge, the probability of each op."""
        z = np.exp(self.logits - self.logits.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def _sample(self) -> int:
        p = self.probabilities()
        ops = np.array([self.rng.choice(NUM_OPS, p=p[e]) for e in range(NUM_EDGES)])
        return int(self.cells.index_of(ops[None])[0])

    def _update(self, index: int, reward: float) -> None:
        self.baseline = reward if self.baseline is None else \
            self.momentum * self.baseline + (1 - self.momentum) * reward
        advantage = reward - self.baseline
        grad_log_p = -self.probabilities()                     # d log p / d logits: one-hot - p
        grad_log_p[np.arange(NUM_EDGES), self.cells.ops[index]] += 1.0
        g = -advantage * grad_log_p                            # ascent on the reward = descent on -J
        self.logits -= self.optimiser.step(g)

    def ask(self) -> list[int]:
        index = self._sample()
        for _ in range(self.resamples):
            if index not in self.rewards:
                break
            self._update(index, self.rewards[index])            # a trained cell: its reward is known
            index = self._sample()
        if index in self.rewards:                              # the policy has collapsed
            fresh = [int(c) for c in self.cells.neighbours(index) if int(c) not in self.rewards]
            index = int(self.rng.choice(fresh)) if fresh else int(next(
                c for c in self.rng.permutation(len(self.cells)) if int(c) not in self.rewards))
        return [index]

    def tell(self, indices, values) -> None:
        for i, v in zip(indices, values):
            reward = float(v[self.problem.accuracy]) / 100.0
            self.rewards[int(i)] = reward
            self._update(int(i), reward)

    def protocol(self) -> dict:
        return {"policy": "factorised softmax over 5 ops on each of 6 edges",
                "optimiser": f"Adam, lr {self.optimiser.lr}",
                "baseline": f"EMA of rewards, momentum {self.momentum}", "reward": "target accuracy / 100"}
