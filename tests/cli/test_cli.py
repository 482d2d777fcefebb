"""The `nagui` command, run as a user runs it (a real subprocess)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def nagui(*args, env=None):
    return subprocess.run([sys.executable, "-m", "nagui.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def test_info_json_follows_the_naming_convention(data_dir):
    r = nagui("info", BEST_C10, "--json")
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout)
    assert record["arch"] == BEST_C10 and record["index"] == 3731
    assert record["test_acc@cifar10"] == pytest.approx(94.41)
    assert {"latency@raspi4", "latency@titanx_1", "flops", "params", "valid_acc@cifar10-valid",
            "test_acc_12ep@cifar100"} <= set(record)


def test_info_by_index_in_text(data_dir):
    r = nagui("info", "3731")
    assert r.returncode == 0 and BEST_C10 in r.stdout and "test_acc@cifar10" in r.stdout


@pytest.mark.parametrize("arch, fragment", [("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "'conv~0'"),
                                            ("15625", "out of range"), ("hello", "node groups")])
def test_bad_arch_exits_2_with_one_line(data_dir, arch, fragment):
    for cmd in ("info", "measure"):
        r = nagui(cmd, arch)
        assert r.returncode == 2
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in r.stderr


def test_measure_refuses_a_bad_cell_before_loading_torch():
    """The refusal comes at once: the arch is parsed before the measuring machinery loads."""
    code = ("import sys\nfrom nagui.cli import main\n"
            "print(main(['measure', 'hello']), 'torch' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.stdout.split() == ["2", "False"], r.stdout + r.stderr
    assert "node groups" in r.stderr


def test_measure_json(data_dir):
    r = nagui("measure", BEST_C10, "--json", "--runs", "30", "--warmup", "2")
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert m["arch"] == BEST_C10 and m["index"] == 3731
    assert m["flops"] == pytest.approx(124.125824) and m["params"] == pytest.approx(0.858426)
    assert 0 < m["latency@local-ort"] <= m["latency_p90@local-ort"]
    assert 0 < m["latency@local-eager"] <= m["latency_p90@local-eager"]
    assert m["peak_activation_mb"] > 0 and m["runs"] == 30


def test_measure_rejects_bad_settings():
    r = nagui("measure", BEST_C10, "--runs", "0")
    assert r.returncode == 2 and "runs" in r.stderr and "Traceback" not in r.stderr


def test_data_check(data_dir, tmp_path):
    r = nagui("data", "check", str(data_dir))
    assert r.returncode == 0 and "sha256 match" in r.stdout
    r = nagui("data", "check", str(tmp_path))
    assert r.returncode == 1 and "configs.txt is missing" in r.stderr and "Traceback" not in r.stderr


def test_missing_data_gives_the_fix_not_a_traceback(tmp_path):
    r = nagui("info", "0", "--data-dir", str(tmp_path))
    assert r.returncode == 1
    assert "expected sha256" in r.stderr and "nagui data fetch" in r.stderr and "Traceback" not in r.stderr
    r = nagui("info", "0", env={"NAGUI_DATA_DIR": str(tmp_path)})
    assert r.returncode == 1 and str(tmp_path) in r.stderr


def test_predictor_train_predict_and_bad_checkpoint(data_dir, tmp_path):
    out = tmp_path / "pred"
    r = nagui("predictor", "train", "--objectives", "test_acc@cifar10", "--train-size", "40", "--members", "2",
              "--epochs", "10", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "weights.safetensors").is_file() and (out / "predictor.json").is_file()
    meta = json.loads((out / "predictor.json").read_text())
    assert meta["model"]["member_kinds"] == ["gin", "dag-exec"] and meta["members"] == 4   # 2 per kind
    r = nagui("predictor", "predict", str(out), BEST_C10, "--json")
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["test_acc@cifar10:lo90"] < rec["test_acc@cifar10"] < rec["test_acc@cifar10:hi90"]
    assert rec["flops"] == pytest.approx(124.125824)
    (out / "predictor.json").write_text("[]")
    r = nagui("predictor", "predict", str(out), BEST_C10)
    assert r.returncode == 2 and "format" in r.stderr and "Traceback" not in r.stderr
    r = nagui("predictor", "train", "--objectives", "accuracy", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "unknown objective" in r.stderr
    r = nagui("predictor", "train", "--member-kinds", "gin,mlp", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "member_kinds must be distinct names among ['gin', 'dag-exec']" in r.stderr


def test_predictor_proxies_scores_a_cell_on_real_images(images_root):
    r = nagui("predictor", "proxies", "3731", "--channels", "8", "--cells-per-stage", "1", "--batch", "16", "--json")
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout)
    assert record["batch"] == 16 and record["channels"] == 8
    assert all(isinstance(record[p], float) for p in ("synflow", "jacov", "nwot"))
    bad = nagui("predictor", "proxies", "3731", "--proxies", "nwot,grasp")
    assert bad.returncode == 2 and "unknown ['grasp']" in bad.stderr


def test_supernet_build_writes_the_run_folder_the_app_and_train_read(data_dir, tmp_path):
    from nagui.supernet.run_folder import build_spec, read_build

    run = tmp_path / "run"
    r = nagui("supernet", "build", "--run", str(run), "--n", "32", "--json", env={"XDG_DATA_HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    spec, preset = build_spec(run)
    assert preset == "quick" and spec.as_dict() == out["spec"]
    assert read_build(run)["build"]["true_coverage"] == pytest.approx(out["true_coverage"]) and 0 < out["true_coverage"] <= 1
    bad = nagui("supernet", "build", "--run", str(tmp_path / "bad"), "--objectives", "test_acc",
                env={"XDG_DATA_HOME": str(tmp_path)})
    assert bad.returncode == 2 and "one accuracy and one cost objective" in bad.stderr and not (tmp_path / "bad").exists()
