"""onnxruntime (pruned network) vs PyTorch eager latency on this machine's CPU.

    nagui bench latency [--threads T] [--batch-size B] [--runs R] [ARCH ...]

Defaults: three cells (CIFAR-10's best, a mid-size one, a cheap one), batch 1,
1 thread, 100 timed runs after 20 warm-up runs; p50 and p90 in ms.
"""
from __future__ import annotations

import argparse
import os
import platform

from nagui.measure.flops import analytic_cost
from nagui.measure.latency import LatencyConfig, measure_latency
from nagui.space import Arch

DEFAULT_CELLS = [
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",  # C10 best
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",  # index 0
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",  # largest
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archs", nargs="*", default=DEFAULT_CELLS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    config = LatencyConfig(batch_size=args.batch_size, threads=args.threads, warmup=args.warmup, runs=args.runs)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"batch {args.batch_size}, {args.threads} thread(s), {args.runs} runs")
    print("| arch | MFLOPs | ORT p50 ms | ORT p90 ms | eager p50 ms | eager p90 ms | eager/ORT | export s |")
    print("|---|---|---|---|---|---|---|---|")
    for text in args.archs:
        arch = Arch.from_str(text)
        r = measure_latency(arch, config=config)
        cell = arch.to_str().replace("|", "\\|")  # keep markdown table cells intact
        print(f"| `{cell}` | {analytic_cost(arch).flops:.2f} | {r.ort.p50_ms:.3f} | {r.ort.p90_ms:.3f} | "
              f"{r.eager.p50_ms:.3f} | {r.eager.p90_ms:.3f} | {r.eager.p50_ms / r.ort.p50_ms:.1f}x | {r.export_s:.2f} |")


if __name__ == "__main__":
    main()
