"""Markdown tables of benchmark records (mean ± std over seeds), for bench/ scripts."""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np


def markdown_summary(records: Sequence[dict], keys: Sequence[str], metrics: Sequence[str]) -> list[str]:
    """One row per distinct value of ``keys`` (in first-seen order), ``mean ± std`` per metric."""
    groups = defaultdict(list)
    for r in records:
        groups[tuple(r.get(k) for k in keys)].append(r)
    lines = ["| " + " | ".join(keys) + " | seeds | " + " | ".join(metrics) + " |",
             "|" + "---|" * (len(keys) + 1 + len(metrics))]
    for key, rs in groups.items():
        cells = []
        for m in metrics:
            vals = [float(r[m]) for r in rs if r.get(m) is not None and np.isfinite(r[m])]
            cells.append(f"{np.mean(vals):.3f} ± {np.std(vals):.3f}" if len(vals) > 1 else
                         (f"{vals[0]:.3f}" if vals else "–"))
        lines.append("| " + " | ".join(str(k) for k in key) + f" | {len(rs)} | " + " | ".join(cells) + " |")
    return lines
