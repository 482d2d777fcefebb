"""``nagui data fetch|check``: download the NB201 tables, verify a data dir."""
from __future__ import annotations

import sys

from ..data.sources import check_data_dir, fetch, resolve_data_dir
from ..progress import printed
from .common import EXIT_DATA


def cmd_data_fetch(args) -> int:
    dest = fetch(args.dest, force=args.force, base_url=args.base_url, progress=printed())
    print(f"NB201 tables ready in {dest}")
    return 0


def cmd_data_check(args) -> int:
    root = resolve_data_dir(args.dir)
    problems = check_data_dir(root)
    if problems:
        for p in problems:
            print(p.message(root), file=sys.stderr)
        print(f"{len(problems)} problem(s) in {root}", file=sys.stderr)
        return EXIT_DATA
    images = root / "cifar10-jpeg"
    note = "images: cifar10-jpeg present" if images.is_dir() else "images: no cifar10-jpeg/ (needed for training only)"
    print(f"data dir {root}: all NB201 files present, sizes and sha256 match; {note}")
    return 0


def add_parsers(sub) -> None:
    data = sub.add_parser("data", help="download or verify the NB201 tables").add_subparsers(dest="data_command",
                                                                                            required=True)
    p = data.add_parser("fetch", help="download the pinned NB201 files (sha256-checked, atomic writes)")
    p.add_argument("--dest", help="data dir to fill (default: the user cache dir)")
    p.add_argument("--force", action="store_true", help="download even files that are already fine")
    p.add_argument("--base-url", help="host laid out like raw.githubusercontent.com (default: GitHub, or $NAGUI_DATA_MIRROR)")
    p.set_defaults(func=cmd_data_fetch)
    p = data.add_parser("check", help="verify a data dir against the pinned sizes and sha256")
    p.add_argument("dir", nargs="?", help="data dir (default: the one nagui would use)")
    p.set_defaults(func=cmd_data_check)
