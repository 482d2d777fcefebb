"""The server's promises, as written in .streamlit/config.toml and the app command."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from nagui.runs import RunStore, RunStoreError

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_the_app_binds_this_machine_keeps_xsrf_and_bounds_uploads():
    from nagui.app_server import app_command
    from nagui.cli import build_parser

    server = tomllib.loads(CONFIG.read_text())["server"]
    assert server["address"] == "127.0.0.1" and server["enableXsrfProtection"] is True
    assert 0 < server["maxUploadSize"] <= 200
    assert build_parser().parse_args(["app"]).address == "127.0.0.1"
    cmd = app_command(8501, "127.0.0.1")
    assert "--server.address" in cmd and cmd[cmd.index("--server.address") + 1] == "127.0.0.1"


@pytest.mark.parametrize("name", ["../escape.json", "../../etc/passwd", "/etc/passwd", "a/../../b", "..", "a/\x00b"])
def test_run_files_never_leave_their_run_folder(tmp_path, name):
    store = RunStore(tmp_path / "runs")
    run = store.create("supernet", {}, name="x")
    with pytest.raises(RunStoreError):
        run.file(name)
    assert run.file("export/abc/model.onnx").is_relative_to(run.path)


def test_the_app_runs_without_streamlit_s_file_watcher():
    """`make run` once ran Streamlit's file watcher over the whole checkout (.venv included):
    inotify overflowed and every task ran up to 10x slower. Off in the config and on the
    command line that `nagui app` runs; the tests start servers through `nagui app` too."""
    from nagui.app_server import app_command, nagui_app_command

    server = tomllib.loads(CONFIG.read_text())["server"]
    assert server["fileWatcherType"] == "none" and server["runOnSave"] is False
    cmd = app_command(8501)
    assert cmd[cmd.index("--server.fileWatcherType") + 1] == "none"
    assert nagui_app_command(8600)[1:] == ["-m", "nagui", "app", "--port", "8600"]


def test_the_app_skips_streamlit_s_full_garbage_collection_after_every_script_run():
    """Streamlit runs gc.collect(2) after every script run by default. With torch, the NB201
    table and the models loaded it held the GIL for 130-220 ms after each slider move, click
    and page switch, and the browser waited (issue #19). Off in the config and on the command
    line that `nagui app` (so `make run`, the tests and `nagui bench app`) runs."""
    from nagui.app_server import app_command

    assert tomllib.loads(CONFIG.read_text())["runner"]["postScriptGC"] is False
    cmd = app_command(8501)
    assert cmd[cmd.index("--runner.postScriptGC") + 1] == "false"
