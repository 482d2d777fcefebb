"""`nagui diffusion train` and `nagui generate`, run as a user runs them (subprocesses)."""
from __future__ import annotations

import json

import pytest

from test_cli import nagui


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_dir):
    """A briefly trained prior and noise-aware predictor, made by the CLI itself."""
    root = tmp_path_factory.mktemp("gen")
    env = {"XDG_DATA_HOME": str(root / "xdg")}
    r = nagui("diffusion", "train", "--steps", "100", "--device", "cpu", "--out", str(root / "model"), env=env)
    assert r.returncode == 0, r.stderr
    assert "saved to" in r.stdout and (root / "model" / "denoiser.safetensors").is_file()
    r = nagui("predictor", "train", "--objectives", "test_acc@cifar10", "--train-size", "150", "--members", "2",
              "--epochs", "5", "--noise-aware", "--out", str(root / "pred"), env=env)
    assert r.returncode == 0, r.stderr
    r = nagui("predictor", "train", "--objectives", "test_acc@cifar10", "--train-size", "30", "--members", "1",
              "--epochs", "1", "--member-kinds", "gin", "--out", str(root / "plain"), env=env)
    assert r.returncode == 0, r.stderr
    return root, env


def _generate(trained, *extra, objectives: str = "test_acc,flops"):
    root, env = trained
    return nagui("generate", "--dataset", "cifar10", "--objectives", objectives, "--model", str(root / "model"),
                 "--predictor", str(root / "pred"), "--steps", "4", "--polish", "1", "--device", "cpu", *extra, env=env)


def test_generate_writes_one_record_per_sample(trained, tmp_path):
    out = tmp_path / "samples.json"
    r = _generate(trained, "--n", "24", "--max-flops", "60", "--forbid", "avg_pool_3x3", "--json", str(out))
    assert r.returncode == 0, r.stderr
    records = json.loads(out.read_text())
    assert len(records) == 24
    for rec in records:
        assert "avg_pool_3x3" not in rec["arch"] and rec["satisfies_constraints"] is True
        acc = rec["predicted"]["test_acc@cifar10"]
        assert acc["lo90"] <= acc["mean"] <= acc["hi90"] and acc["std"] >= 0 and acc["source"] == "predictor"
        assert rec["predicted"]["flops"]["std"] == 0 and rec["truth"]["flops"] <= 60
        assert 10 <= rec["truth"]["test_acc@cifar10"] <= 100 and len(rec["preference"]) == 2
    assert "validity 100%" in r.stderr and "100.0% satisfied" in r.stderr and "HV ratio" in r.stderr


def test_generate_jsonl_and_unguided(trained, tmp_path):
    out = tmp_path / "samples.jsonl"
    r = _generate(trained, "--n", "8", "--scale", "0", "--json", str(out))
    assert r.returncode == 0, r.stderr
    lines = out.read_text().strip().splitlines()
    assert len(lines) == 8 and all("preference" not in json.loads(line) for line in lines)
    assert "unguided" in r.stderr


def test_generate_guides_on_activation_memory(trained, tmp_path):
    """memory (a computed objective added in nagui.objectives alone) guides like FLOPs do."""
    out = tmp_path / "memory.json"
    r = _generate(trained, "--n", "8", "--json", str(out), objectives="test_acc,memory")
    assert r.returncode == 0, r.stderr
    records = json.loads(out.read_text())
    assert len(records) == 8
    for rec in records:
        memory = rec["predicted"]["memory"]
        assert memory["std"] == 0 and memory["mean"] == rec["truth"]["memory"] > 0
        assert memory["source"].startswith("computed")


BAD_INPUT = [
    (["--objectives", "test_acc,speed"], "unknown objective 'speed'"),
    (["--max-latency", "raspi4=fast"], "'fast' is not a number"),
    (["--max-latency", "toaster=3"], "unknown device 'toaster'"),
    (["--max-flops", "1"], "Relax 'flops <= 1' to >= 7.94"),
    (["--preference", "1,2,3"], "2 objectives need 2"),
    (["--forbid", "conv_5x5"], "unknown op"),
    (["--device", "cuda"], "no CUDA GPU"),
    (["--n", "0"], "--n must be in"),
]


def _bad_args(tmp_path, extra):
    return ["--n", "4", "--json", str(tmp_path / "x.json"), *extra]     # later flags win in argparse


def test_generate_bad_input_exits_2_with_a_message(trained, tmp_path, monkeypatch, capsys):
    """Each bad input: exit 2, one line naming the problem, nothing written. One case runs
    as a user runs it (a subprocess); the others through the same ``nagui.cli.main`` in
    this process (a fresh interpreter per case costs ~4 s of imports and says nothing new)."""
    from nagui.cli import main

    extra, fragment = BAD_INPUT[0]
    r = _generate(trained, *_bad_args(tmp_path, extra))
    assert r.returncode == 2 and fragment in r.stderr and "Traceback" not in r.stderr, r.stderr
    root, env = trained
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for extra, fragment in BAD_INPUT:
        argv = ["generate", "--dataset", "cifar10", "--objectives", "test_acc,flops", "--model", str(root / "model"),
                "--predictor", str(root / "pred"), "--steps", "4", "--polish", "1", "--device", "cpu",
                *_bad_args(tmp_path, extra)]
        assert main(argv) == 2, extra
        err = capsys.readouterr().err
        assert fragment in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, (extra, err)
        assert not (tmp_path / "x.json").exists()


def test_generate_refuses_an_unfit_predictor_or_model(trained, tmp_path):
    root, env = trained
    r = nagui("generate", "--model", str(root / "model"), "--predictor", str(root / "plain"), "--n", "4",
              "--json", str(tmp_path / "x.json"), env=env)
    assert r.returncode == 2 and "noise-aware" in r.stderr
    bad = tmp_path / "model"
    bad.mkdir()
    (bad / "diffusion.json").write_text("{}")
    (bad / "denoiser.safetensors").write_bytes((root / "model" / "denoiser.safetensors").read_bytes())
    r = nagui("generate", "--model", str(bad), "--predictor", str(root / "pred"), "--n", "4",
              "--json", str(tmp_path / "x.json"), env=env)
    assert r.returncode == 2 and "format None" in r.stderr and "Traceback" not in r.stderr


def test_a_new_computed_objective_is_one_registry_entry(trained, data_dir, tmp_path, monkeypatch, capsys):
    """Issue #18's target: adding an objective kind touches the registry and, for a computed
    kind, the function that computes it, nothing else. A throwaway kind (the number of 3x3
    convolutions in the cell) is added to ``nagui.objectives.KINDS`` alone; the table's
    columns and docs, the Search Space column groups, objective parsing, the Generate page's
    cost choices and guided generation all take it."""
    import numpy as np

    from nagui import objectives
    from nagui.cli import main
    from nagui.data import Benchmark
    from nagui.data.filters import column_groups
    from nagui.problem import Problem, cost_objectives
    from nagui.space import OPS

    def count_3x3(op_indices):
        return (np.asarray(op_indices) == OPS.index("nor_conv_3x3")).sum(axis=1).astype(float)

    new = objectives.Kind("conv3x3", False, "convs", "computed", "3x3 convolutions", lambda m: m == "conv3x3",
                          count_3x3, "number of 3x3 convolutions in the cell")
    monkeypatch.setattr(objectives, "KINDS", (*objectives.KINDS, new))
    bench = Benchmark.load(data_dir)
    expected = count_3x3([bench.arch(i).indices for i in range(len(bench.table))])
    assert np.array_equal(bench.table["conv3x3"].to_numpy(), expected)
    assert "conv3x3" in column_groups()["Cost"] and "conv3x3" in cost_objectives()
    assert Problem.parse("cifar10", "test_acc,conv3x3").objectives[1] == "conv3x3"

    root, env = trained
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "conv3x3.json"
    assert main(["generate", "--dataset", "cifar10", "--objectives", "test_acc,conv3x3", "--model", str(root / "model"),
                 "--predictor", str(root / "pred"), "--steps", "4", "--polish", "1", "--device", "cpu",
                 "--n", "8", "--json", str(out)]) == 0, capsys.readouterr().err
    for rec in json.loads(out.read_text()):
        assert rec["predicted"]["conv3x3"]["std"] == 0
        assert rec["predicted"]["conv3x3"]["mean"] == rec["truth"]["conv3x3"] == rec["arch"].count("nor_conv_3x3")
