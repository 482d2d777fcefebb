"""One objective model: kinds, directions, units, where values come from; and the problem built on it."""
from __future__ import annotations

import numpy as np
import pytest

from nagui.measure.memory import peak_activation_bytes
from nagui.objectives import OTHER, Objective, computed_columns, computed_kinds, kind_of
from nagui.problem import Problem, ProblemError, cost_objectives
from nagui.space import Arch, all_op_indices


@pytest.mark.parametrize("name, kind, maximise, unit", [
    ("test_acc@cifar10", "accuracy", True, "%"), ("valid_acc_12ep@cifar100", "accuracy", True, "%"),
    ("accuracy", "accuracy", True, "%"), ("flops", "flops", False, "MFLOPs"), ("params", "params", False, "M params"),
    ("latency@raspi4", "latency", False, "ms"), ("latency_ms", "latency", False, "ms"),
    ("memory", "memory", False, "MB"), ("train_s@cifar10-valid", "train_time", False, "s"),
])
def test_every_name_resolves_to_one_kind(name, kind, maximise, unit):
    o = Objective.parse(name)
    assert (o.kind.name, o.maximise, o.unit, o.is_cost) == (kind, maximise, unit, not maximise)


def test_only_device_measurements_name_a_device_and_unknown_names_are_other():
    assert Objective.parse("latency@pixel3").device == "pixel3"
    assert Objective.parse("flops").device is None and Objective.parse("latency_ms").device is None
    assert kind_of("coverage") is OTHER and not Objective.parse("coverage").maximise
    assert Objective.parse("test_acc@cifar10").learnt and not Objective.parse("memory").learnt


def test_computed_columns_match_the_per_cell_functions():
    names = {k.name for k in computed_kinds()}
    assert {"flops", "params", "memory"} <= names
    rows = all_op_indices()[np.random.default_rng(0).choice(15625, 40, replace=False)]
    cols = computed_columns(rows)
    assert set(cols) == names and all(v.shape == (40,) for v in cols.values())
    for row, mb in zip(rows.tolist(), cols["memory"]):
        assert mb == pytest.approx(peak_activation_bytes(Arch.from_indices(row)) / 2 ** 20)


def test_the_table_and_the_problem_take_every_computed_objective(bench):
    assert "memory" in bench.table.columns and bench.table["memory"].gt(0).all()
    assert "memory" in cost_objectives() and "latency@raspi4" in cost_objectives()
    problem = Problem.parse("cifar10", "memory,test_acc")
    assert problem.objectives == ("test_acc@cifar10", "memory") and problem.costs == ("memory",)
    with pytest.raises(ProblemError, match="memory"):
        Problem.parse("cifar10", "test_acc,energy")
