"""``nagui info`` and ``nagui measure``: one cell's table values, and its costs measured here."""
from __future__ import annotations

import sys

from ..data import Benchmark
from ..data.sources import DataError, resolve_data_dir, verified_path
from ..space import Arch
from .common import UsageError, add_data_dir_arg, parse_arch_or_index, print_record
# Each command's machinery (torch, the models, the table) is imported inside the command:
# `nagui --help` imports this module and stays fast.


def cmd_info(args) -> int:
    bench = Benchmark.load(args.data_dir)
    record = bench.lookup(args.arch)
    print_record({"arch": record.pop("arch"), "index": record.pop("index"), **record}, args.json)
    return 0


def _index_without_table(arch: Arch, data_dir) -> int | None:
    """NB201 index from configs.txt alone (cheap); None if the data is not there."""
    try:
        path = verified_path(resolve_data_dir(data_dir), "lighton-cena/configs.txt")
    except DataError as exc:
        print(f"note: NB201 index unknown ({exc})", file=sys.stderr)
        return None
    text = arch.to_str()
    for i, line in enumerate(path.read_text().splitlines()):
        if line.strip() == text:
            return i
    return None


def cmd_measure(args) -> int:
    arch = parse_arch_or_index(args.arch, args.data_dir)   # a bad cell is refused before torch loads
    # deferred: keeps `nagui --help` and the refusal above fast
    from ..measure.flops import analytic_cost, thop_cost
    from ..measure.latency import LatencyConfig, measure_latency
    from ..measure.memory import peak_activation_bytes
    from ..nets import NetConfig

    try:
        net_config = NetConfig(channels=args.channels, cells_per_stage=args.cells, num_classes=args.classes)
        lat_config = LatencyConfig(batch_size=args.batch_size, threads=args.threads, warmup=args.warmup,
                                   runs=args.runs, input_hw=args.input_size)
        analytic_cost(arch, net_config, args.input_size)  # validates input size
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    cost = thop_cost(arch, net_config, args.input_size)
    report = measure_latency(arch, net_config, lat_config)
    record = {
        "arch": arch.to_str(),
        "index": _index_without_table(arch, args.data_dir),
        "flops": cost.flops,
        "params": cost.params,
        "latency@local-ort": report.ort.p50_ms,
        "latency_p90@local-ort": report.ort.p90_ms,
        "latency@local-eager": report.eager.p50_ms,
        "latency_p90@local-eager": report.eager.p90_ms,
        "peak_activation_mb": peak_activation_bytes(arch, net_config, args.input_size, args.batch_size) / 2 ** 20,
        "onnx_nodes": report.onnx_nodes,
        "onnx_export_s": report.export_s,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "runs": args.runs,
    }
    print_record(record, args.json)
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("info", help="every table value of one cell")
    p.add_argument("arch", help="official arch string |op~0|+|op~0|op~1|+|...| or NB201 index")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_data_dir_arg(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("measure", help="FLOPs, params, latency and memory of one cell, measured here")
    p.add_argument("arch", help="official arch string or NB201 index")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="intra-op threads for onnxruntime and torch")
    p.add_argument("--runs", type=int, default=30, help="timed runs (median and p90 over these)")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--input-size", type=int, default=32, help="input height = width (multiple of 4)")
    p.add_argument("--channels", type=int, default=16, help="C of the first stage")
    p.add_argument("--cells", type=int, default=5, help="N cells per stage")
    p.add_argument("--classes", type=int, default=10)
    add_data_dir_arg(p)
    p.set_defaults(func=cmd_measure)
