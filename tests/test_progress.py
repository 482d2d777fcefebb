"""One progress-callback shape, report(text, fraction=None), and what reports through it."""
from __future__ import annotations

import io
import logging

import pytest

from nagui.progress import logged, printed, quiet, within


def test_within_maps_a_sub_step_into_its_part_of_the_range():
    got = []
    sub = within(lambda text, fraction=None: got.append((text, fraction)), 0.2, 0.6)
    sub("half", 0.5)
    sub("no fraction")
    sub("done", 1.0)
    assert got == [("half", pytest.approx(0.4)), ("no fraction", None), ("done", pytest.approx(0.6))]


def test_printed_throttles_lines_with_a_fraction_but_never_drops_plain_or_final_ones():
    out = io.StringIO()
    report = printed(out, seconds=3600)
    for i in range(1, 11):
        report(f"step {i}/10", i / 10)
    report("a summary")
    assert out.getvalue().splitlines() == ["step 1/10", "step 10/10", "a summary"]


def test_logged_and_quiet_take_both_arguments(caplog):
    caplog.set_level(logging.INFO)
    logged(logging.getLogger("nagui.test"))("fitting", 0.5)
    quiet("nothing", 0.5)
    assert [r.getMessage() for r in caplog.records] == ["fitting"]


def test_a_predictor_fit_reports_its_members_training_with_its_fraction(bench):
    from nagui.predictor.ensemble import Predictor, TrainConfig

    got = []
    archs = [bench.arch(i) for i in range(0, 15625, 625)]
    Predictor.fit(archs, {"test_acc@cifar10": bench.table["test_acc@cifar10"].to_numpy()[::625]},
                  train_config=TrainConfig(members=2, epochs=2), progress=lambda t, f=None: got.append((t, f)))
    assert got[-1] == ("2/2 members fitted (gin)", 1.0) and len(got) >= 3
    steps = got[:-1]                      # both members train together, reported step by step
    assert all(t.startswith("training 2 members together: step ") for t, _ in steps)
    fractions = [f for _, f in steps]
    assert fractions == sorted(fractions) and 0 < fractions[0] < 1 and fractions[-1] == 1.0
