"""The same seed gives the same results on the same machine: generated samples, a search
trajectory, and the sub-network the sliders select (training itself: test_resume_is_exact)."""
from __future__ import annotations

import shutil

import numpy as np


def test_same_seed_same_generated_samples(bench, tiny_model, tiny_predictor):
    from nagui.diffusion.generate import GenerateRequest, generate

    request = GenerateRequest(dataset="cifar10", objectives="test_acc@cifar10,flops", n=24, seed=7, steps=6)
    a = generate(bench, request, tiny_model, predictor=tiny_predictor)
    b = generate(bench, request, tiny_model, predictor=tiny_predictor)
    c = generate(bench, GenerateRequest(dataset="cifar10", objectives="test_acc@cifar10,flops", n=24, seed=8,
                                        steps=6), tiny_model, predictor=tiny_predictor)
    assert [r["arch"] for r in a.records] == [r["arch"] for r in b.records]
    assert [r["arch"] for r in a.records] != [r["arch"] for r in c.records]


def test_same_seed_same_search_trajectory(bench):
    from nagui.search.harness import run_many
    from nagui.problem import Problem

    problem = Problem.parse("cifar100", "test_acc,latency@raspi4")
    for strategy in ("bo", "nsga2"):
        one = run_many(bench.table, problem, strategy, 15, seeds=[4, 5], processes=2)
        two = run_many(bench.table, problem, strategy, 15, seeds=[4, 5], processes=1)
        assert [[q.index for q in r.queries] for r in one] == [[q.index for q in r.queries] for r in two]
        assert [q.index for q in one[0].queries] != [q.index for q in one[1].queries]


def test_same_checkpoint_same_measurements_and_selection(trained_home, images_root, bench, tmp_path, monkeypatch):
    """Profiling the same trained run again from scratch (a copy without its cache) gives
    the same accuracy, FLOPs and params per mask, so the same sub-network is selected
    under accuracy and FLOPs limits (latency is re-timed and may move in its last digits)."""
    from nagui.runs import RunStore
    from nagui.supernet.profile import Profiler, ProfileSettings
    from nagui.supernet.select import Limits, select

    monkeypatch.setenv("XDG_DATA_HOME", str(trained_home))
    run = RunStore().list("supernet")[0]
    copy = tmp_path / "copy"
    shutil.copytree(run.path, copy, ignore=shutil.ignore_patterns("profile.sqlite*", "export"))
    settings = ProfileSettings(**run.params.get("profile_settings", {}))
    original = Profiler(run.path, data_root=images_root, settings=settings, bench=bench).records()[:8]
    again = Profiler(copy, data_root=images_root, settings=settings, bench=bench)
    remeasured = [again.measure(r["mask"]) for r in original]
    assert not any(r["cached"] for r in remeasured)
    for old, new in zip(original, remeasured):
        assert (new["accuracy"], new["flops"], new["params"]) == (old["accuracy"], old["flops"], old["params"])
    floor = float(np.median([r["accuracy"] for r in original]))
    limits = Limits(min_accuracy=floor, max_flops=max(r["flops"] for r in original))
    assert select(original, limits).best["mask"] == select(remeasured, limits).best["mask"]
