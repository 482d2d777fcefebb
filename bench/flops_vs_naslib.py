"""FLOPs/params of nagui against NB201's official numbers (NASLib's subset, mapped by arch tuple).

    nagui bench flops [--thop N] [--data-dir DIR]

Prints, per dataset, the number of cells, the worst relative FLOPs error, and the worst
absolute params error, for the closed form on every cell and thop on N of them.
"""
from __future__ import annotations

import argparse
import json
import time

from nagui.data.sources import resolve_data_dir, verified_path
from nagui.measure.flops import analytic_cost, thop_cost
from nagui.nets import NetConfig
from nagui.space import Arch

NETS = {"cifar10": (NetConfig(num_classes=10), 32), "cifar100": (NetConfig(num_classes=100), 32),
        "ImageNet16-120": (NetConfig(num_classes=120), 16)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--thop", type=int, default=50, help="cells per dataset also counted with thop")
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    path = verified_path(resolve_data_dir(args.data_dir), "NASLib/zc_nasbench201.json")
    subsets = json.loads(path.read_text())
    print("| dataset | cells | max FLOPs error (closed form) | max params error | thop cells | max FLOPs error (thop) | thop s/cell |")
    print("|---|---|---|---|---|---|---|")
    for dataset, entries in subsets.items():
        config, hw = NETS[dataset]
        flop_err = param_err = thop_err = 0.0
        for key, e in entries.items():
            c = analytic_cost(Arch.from_naslib(key), config, hw)
            flop_err = max(flop_err, abs(c.flops - e["flops"]["score"]) / e["flops"]["score"])
            param_err = max(param_err, abs(c.params - e["params"]["score"]))
        keys = list(entries)[: args.thop]
        start = time.perf_counter()
        for key in keys:
            c = thop_cost(Arch.from_naslib(key), config, hw)
            thop_err = max(thop_err, abs(c.flops - entries[key]["flops"]["score"]) / entries[key]["flops"]["score"])
        per_cell = (time.perf_counter() - start) / max(len(keys), 1)
        print(f"| {dataset} | {len(entries)} | {flop_err:.4%} | {param_err * 1e6:.0f} params | {len(keys)} | "
              f"{thop_err:.4%} | {per_cell:.3f} |")


if __name__ == "__main__":
    main()
