"""What every ``nagui`` command shares: exit codes, the usage error, printing records, the
``--data-dir`` option and reading a cell given as an arch string or an NB201 index."""
from __future__ import annotations

import json
import math

from ..data import Benchmark
from ..errors import NaguiError
from ..progress import printed
from ..space import Arch

EXIT_DATA, EXIT_USAGE = 1, 2


class UsageError(NaguiError):
    pass


def format_value(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def print_record(record: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(record, allow_nan=False))
        return
    width = max(len(k) for k in record)
    for key, value in record.items():
        print(f"{key:<{width}}  {format_value(value)}")


say = printed(seconds=2)
"""Progress and summaries on stderr (stdout stays for the command's output); a line that
carries a fraction at most every 2 s."""


def parse_arch_or_index(value: str, data_dir) -> Arch:
    if value.strip().isdigit():
        return Benchmark.load(data_dir).arch(int(value))
    return Arch.from_str(value)


def add_data_dir_arg(p) -> None:
    p.add_argument("--data-dir", help="data dir holding nb201/ (default: $NAGUI_DATA_DIR, "
                                      "../shared/data next to the repo, then the user cache dir)")
