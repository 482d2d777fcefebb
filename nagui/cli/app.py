"""``nagui app``: start the Streamlit app (this process becomes the server)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..data.sources import REPO_ROOT
from .common import UsageError, add_data_dir_arg


def cmd_app(args) -> int:
    # deferred: keeps `nagui --help` fast
    from ..app_server import AppServerError, app_command

    env = dict(os.environ)
    if args.data_dir:
        env["NAGUI_DATA_DIR"] = str(Path(args.data_dir).resolve())
    try:
        cmd = app_command(args.port, args.address)
    except AppServerError as exc:
        raise UsageError(str(exc)) from None
    # Become the server (exec): signals reach Streamlit directly and no parent is left behind.
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(REPO_ROOT)
    os.execve(cmd[0], cmd, env)


def add_parsers(sub) -> None:
    p = sub.add_parser("app", help="start the Streamlit app")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1",
                   help="interface to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the network)")
    add_data_dir_arg(p)
    p.set_defaults(func=cmd_app)
