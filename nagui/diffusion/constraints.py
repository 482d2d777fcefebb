"""Hard constraints on generated cells, and the feasible set they leave.

Every constraint is a property of a concrete cell that the enumerable NB201 space
tabulates exactly (computed FLOPs/params, measured device latency, the ops it uses), so
the set of feasible cells is known before sampling. The sampler's last step decodes
node by node and never picks an op that leaves no feasible completion: every sample
satisfies the constraints whenever any cell does, and an empty feasible set is reported
up front (:class:`InfeasibleConstraintsError`) with what to relax and by how much.
Cells whose latency the table lacks (measurement artefacts) count as infeasible under a
latency constraint.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.benchmark import DEVICES
from ..errors import NaguiError
from ..space import OPS


class ConstraintError(NaguiError, ValueError):
    """A constraint that cannot be parsed or names an unknown device/op."""


class InfeasibleConstraintsError(NaguiError, ValueError):
    """No cell satisfies all the constraints."""


def parse_latency_limit(text: str) -> tuple[str, float]:
    """``"raspi4=5"`` -> ("raspi4", 5.0) (ms)."""
    device, sep, value = str(text).partition("=")
    device = device.strip()
    if not sep or not device:
        raise ConstraintError(f"latency limit {text!r} must look like DEVICE=MS, e.g. raspi4=5")
    if device not in DEVICES:
        raise ConstraintError(f"latency limit {text!r}: unknown device {device!r}; known: {', '.join(DEVICES)}")
    try:
        ms = float(value)
    except ValueError:
        raise ConstraintError(f"latency limit {text!r}: {value.strip()!r} is not a number of milliseconds") from None
    if not np.isfinite(ms) or ms <= 0:
        raise ConstraintError(f"latency limit {text!r}: the limit must be a positive number of ms")
    return device, ms


def _check_ops(ops, what: str) -> tuple[str, ...]:
    ops = tuple(ops)
    bad = [o for o in ops if o not in OPS]
    if bad:
        raise ConstraintError(f"{what}: unknown op(s) {bad}; ops are {', '.join(OPS)}")
    return ops


@dataclass(frozen=True)
class Constraints:
    max_flops: float | None = None                       # MFLOPs (NB201 convention)
    max_params: float | None = None                      # M parameters
    max_latency: tuple[tuple[str, float], ...] = ()      # (device, ms) pairs
    forbidden_ops: tuple[str, ...] = ()
    required_ops: tuple[str, ...] = field(default=())    # each must appear at least once

    def __post_init__(self) -> None:
        for name in ("max_flops", "max_params"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ConstraintError(f"{name} must be a positive number, got {v!r}")
        object.__setattr__(self, "forbidden_ops", _check_ops(self.forbidden_ops, "forbidden ops"))
        object.__setattr__(self, "required_ops", _check_ops(self.required_ops, "required ops"))
        both = set(self.forbidden_ops) & set(self.required_ops)
        if both:
            raise ConstraintError(f"op(s) {sorted(both)} are both forbidden and required")
        if len(set(self.forbidden_ops)) >= len(OPS):
            raise ConstraintError("every op is forbidden: at least one must stay allowed")
        lat = []
        for item in self.max_latency:
            device, ms = parse_latency_limit(item) if isinstance(item, str) else (str(item[0]), float(item[1]))
            if not (np.isfinite(ms) and ms > 0):
                raise ConstraintError(f"latency limit for {device}: must be a positive number of ms, got {ms!r}")
            lat.append((device, ms))
        object.__setattr__(self, "max_latency", tuple(lat))

    @property
    def empty(self) -> bool:
        return (self.max_flops is None and self.max_params is None and not self.max_latency
                and not self.forbidden_ops and not self.required_ops)

    def describe(self) -> list[str]:
        out = []
        if self.max_flops is not None:
            out.append(f"flops <= {self.max_flops:g} MFLOPs")
        if self.max_params is not None:
            out.append(f"params <= {self.max_params:g} M")
        out += [f"latency@{d} <= {ms:g} ms" for d, ms in self.max_latency]
        out += [f"no {op}" for op in self.forbidden_ops]
        out += [f"uses {op}" for op in self.required_ops]
        return out

    def _parts(self, tables) -> list[tuple[str, np.ndarray, str | None]]:
        """(description, satisfied (N,), column or None) per constraint."""
        idx = tables.space.all_indices.numpy()
        parts = []
        if self.max_flops is not None:
            parts.append((f"flops <= {self.max_flops:g}", tables.column("flops") <= self.max_flops + 1e-9, "flops"))
        if self.max_params is not None:
            parts.append((f"params <= {self.max_params:g}", tables.column("params") <= self.max_params + 1e-9,
                          "params"))
        for device, ms in self.max_latency:
            col = f"latency@{device}"
            v = tables.column(col)
            parts.append((f"{col} <= {ms:g}", np.isfinite(v) & (v <= ms), col))
        for op in self.forbidden_ops:
            parts.append((f"no {op}", ~(idx == OPS.index(op)).any(1), None))
        for op in self.required_ops:
            parts.append((f"uses {op}", (idx == OPS.index(op)).any(1), None))
        return parts

    def feasible(self, tables) -> np.ndarray:
        """(15625,) bool in the space's order; raises if no cell is feasible."""
        parts = self._parts(tables)
        ok = np.ones(len(tables.space.all_indices), dtype=bool)
        for _, sat, _ in parts:
            ok &= sat
        if not ok.any():
            raise InfeasibleConstraintsError(self._explain(parts, tables))
        return ok

    def satisfied(self, flat: np.ndarray, tables) -> np.ndarray:
        """Whether each cell (flat indices) satisfies every constraint."""
        ok = np.ones(len(tables.space.all_indices), dtype=bool)
        for _, sat, _ in self._parts(tables):
            ok &= sat
        return ok[np.asarray(flat, dtype=np.int64)]

    def _explain(self, parts, tables) -> str:
        msg = [f"no cell satisfies all of: {', '.join(self.describe())}."]
        for i, (desc, sat, col) in enumerate(parts):
            others = np.ones_like(sat)
            for j, (_, s, _) in enumerate(parts):
                if j != i:
                    others &= s
            if not others.any():
                continue
            if col is None:
                msg.append(f"Dropping '{desc}' makes it feasible.")
            else:
                v = tables.column(col)
                best = np.nanmin(np.where(others, v, np.nan))
                limit = desc.split("<=")[1].strip()
                msg.append(f"Relax '{desc}' to >= {best:.4g} (the lowest {col} under the other constraints; "
                           f"now {limit}).")
        if len(msg) == 1:
            msg.append("No single constraint can be relaxed alone to make it feasible; drop several.")
        return " ".join(msg)
