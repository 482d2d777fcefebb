"""Measure sub-networks of a trained super-network, once each.

For a mask: the standalone sub-network (disabled blocks are not in it), its BatchNorm
statistics recalibrated on training images (shared BN statistics belong to no single
sub-network), then FLOPs and params with thop (NB201's counting rules), onnxruntime
latency of its ONNX export (batch 1, one thread), and top-1 accuracy on the held-out
images (from the train split, never the test split). :meth:`Profiler.measure_costs` gives
the costs alone first (they need no BN recalibration; the app shows them while the accuracy
is measured), and :meth:`Profiler.measure` takes them instead of measuring them again.
Records are cached in
``RUN/profile.sqlite`` keyed by the checkpoint's sha256 and the measurement settings, so a
mask is measured once per trained super-network. BN recalibration and accuracy are
:mod:`.evaluation`'s (training scores masks the same way); the checkpoint and the images
come from :mod:`.checkpoint` and :mod:`.training_data`.
"""
from __future__ import annotations

import itertools
import json
import os
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from scipy.stats import kendalltau

from ..measure.flops import thop_cost_of_module
from ..measure.latency import LatencyConfig, export_onnx, ort_latency
from ..nets.supernet import BlockMask, SubNetwork, SuperNetSpec, extract_subnetwork
from ..progress import Report, quiet
from ..space import EDGES, prune
from .checkpoint import load_supernet
from .config import SupernetTrainConfig
from .evaluation import accuracy, recalibrate_bn
from .training_data import load_train_heldout

CACHE_NAME = "profile.sqlite"
COST_FIELDS = ("flops", "params", "latency_ms", "latency_p90_ms", "onnx_kb")   # what measure_costs measures

# One measurement at a time in this process, whichever run or browser session asks: two
# timings on the same cores would disturb each other. The others wait their turn.
MEASUREMENT_LOCK = threading.Lock()


@dataclass(frozen=True)
class ProfileSettings:
    calibration_images: int = 500     # training images that re-estimate BN statistics per mask
    eval_images: int | None = None    # held-out images scored (None: all the training run set aside)
    latency_runs: int = 20
    latency_warmup: int = 5
    threads: int = 1                  # onnxruntime threads for the latency measurement
    batch_size: int = 250
    compute_threads: int | None = None  # torch threads for BN recalibration and accuracy (None: every core)

    def key(self) -> str:
        """What the measured numbers depend on (compute_threads only changes the speed)."""
        return json.dumps({k: v for k, v in asdict(self).items() if k != "compute_threads"}, sort_keys=True)


class ProfileCache:
    """Profiled records in SQLite (safe for several threads and processes)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS records (checkpoint TEXT, settings TEXT, mask TEXT, record TEXT, "
                       "PRIMARY KEY (checkpoint, settings, mask))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, checkpoint: str, settings: str, mask: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT record FROM records WHERE checkpoint=? AND settings=? AND mask=?",
                             (checkpoint, settings, mask)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, checkpoint: str, settings: str, mask: str, record: dict) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                       (checkpoint, settings, mask, json.dumps(record, allow_nan=False)))

    def all(self, checkpoint: str, settings: str) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("SELECT record FROM records WHERE checkpoint=? AND settings=? ORDER BY rowid",
                              (checkpoint, settings)).fetchall()
        return [json.loads(r[0]) for r in rows]


def record_line(r: dict) -> str:
    """One profiled mask on one line: mask, accuracy, latency, FLOPs, params (and table accuracy)."""
    return (f"{r['mask']:<34} acc {r['accuracy']:6.2f}%  {r['latency_ms']:7.3f} ms  {r['flops']:8.2f} MFLOPs  "
            f"{r['params']:6.3f} M" + (f"  table {r['table_acc']:.2f}%" if r.get("table_acc") is not None else ""))


class Profiler:
    """Measures masks of the super-network trained in ``run_dir`` (thread-safe: one
    measurement at a time, so latencies never share cores with each other). BN
    recalibration and accuracy run on ``device``; FLOPs and latency always on the CPU."""

    def __init__(self, run_dir: str | Path, data_root=None, settings: ProfileSettings = ProfileSettings(),
                 bench=None, dataset: str = "cifar10", device: str = "cpu"):
        self.run_dir = Path(run_dir)
        self.supernet, self.meta = load_supernet(self.run_dir)
        self.spec: SuperNetSpec = self.supernet.spec
        config = SupernetTrainConfig.from_dict(self.meta["config"])
        train, heldout = load_train_heldout(config, data_root)
        # the same calibration images for every mask: a seeded random draw from the training images
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(1234))
        self.calibration = train.subset(order[:settings.calibration_images])
        self.heldout = heldout if settings.eval_images is None else heldout.subset(torch.arange(
            min(settings.eval_images, len(heldout))))
        self.settings = settings
        self.checkpoint = self.meta["sha256"][self.meta["weights"]]
        self.cache = ProfileCache(self.run_dir / CACHE_NAME)
        self.bench, self.dataset = bench, dataset
        self.device = torch.device(device)
        self._lock = MEASUREMENT_LOCK

    @property
    def settings_key(self) -> str:
        return self.settings.key()

    def calibrated(self, mask: BlockMask | str) -> SubNetwork:
        """The standalone sub-network of ``mask`` with recalibrated BN statistics."""
        return self._calibrated_channels_last(mask).to(memory_format=torch.contiguous_format)

    def _calibrated_channels_last(self, mask: BlockMask | str) -> SubNetwork:
        """:meth:`calibrated` with its weights in channels-last order: on the CPU its passes
        over images take about 35% less time for the same predictions (BENCHMARKS.md, the
        app); export and safetensors want the default order back."""
        mask = BlockMask.parse(mask, self.spec)
        sub = extract_subnetwork(self.supernet, mask).to(self.device, memory_format=torch.channels_last)
        recalibrate_bn(sub, self.calibration, self.settings.batch_size)
        return sub

    def cached(self, mask: BlockMask | str) -> dict | None:
        """The cached record of ``mask``, or None when it was never measured."""
        hit = self.cache.get(self.checkpoint, self.settings_key, BlockMask.parse(mask, self.spec).to_str())
        return None if hit is None else {**hit, "cached": True}

    def measure_costs(self, mask: BlockMask | str) -> dict:
        """FLOPs, params and onnxruntime latency of ``mask``'s sub-network, without its accuracy:
        what none of them depends on (BN statistics) is skipped, so they come in a fraction of
        :meth:`measure`'s time (pass them to it as ``costs``). The cached record when there is one."""
        mask = BlockMask.parse(mask, self.spec)
        hit = self.cached(mask)
        if hit is not None:
            return hit
        with self._lock:
            costs, steps = self._costs(extract_subnetwork(self.supernet, mask).cpu())
        return {**self._describe(mask), **costs, "measure_steps_s": steps, "cached": False}

    def _costs(self, sub: SubNetwork) -> tuple[dict, dict]:
        """The cost fields of a sub-network's record and the seconds each step took. Called with
        the measurement lock held."""
        clock = _StepClock()
        with _threads(self.settings.threads):
            cost = clock.step("flops", thop_cost_of_module, sub)
            onnx_bytes = clock.step("export", export_onnx, sub)
            lat = clock.step("latency", ort_latency, onnx_bytes,
                             LatencyConfig(runs=self.settings.latency_runs, warmup=self.settings.latency_warmup,
                                           threads=self.settings.threads))
        return {"flops": round(cost.flops, 4), "params": round(cost.params, 5),
                "latency_ms": round(lat.p50_ms, 4), "latency_p90_ms": round(lat.p90_ms, 4),
                "onnx_kb": round(len(onnx_bytes) / 1024, 1)}, clock.steps

    def _describe(self, mask: BlockMask) -> dict:
        """The fields of a record that need no measurement."""
        cell = mask.sub_cell(self.spec)
        record = {"mask": mask.to_str(), "cell": cell.to_str(), "depth": list(mask.depth()),
                  "edges_on": [f"{s}->{d}" for (s, d), st in zip(EDGES, mask.edges) if st == "on"],
                  "full_depth": mask.depth() == self.spec.slots}
        if self.bench is not None:
            row = self.bench.lookup(cell)
            record["table_acc"] = float(row[f"test_acc@{self.dataset}"])
            record["table_flops"] = float(row["flops"])
        return record

    def measure(self, mask: BlockMask | str, costs: dict | None = None) -> dict:
        """The record of ``mask`` (from the cache when it was measured before). ``costs``: what
        :meth:`measure_costs` gave for this mask, kept instead of measured again."""
        mask = BlockMask.parse(mask, self.spec)
        hit = self.cached(mask)
        if hit is not None:
            return hit
        with self._lock:
            clock = _StepClock()
            with _threads(self.settings.compute_threads or os.cpu_count() or 1):
                sub = clock.step("calibrate", self._calibrated_channels_last, mask)
                acc = clock.step("accuracy", accuracy, sub, self.heldout, self.settings.batch_size)
            if costs is None:
                costs, cost_steps = self._costs(sub.cpu().to(memory_format=torch.contiguous_format))
            else:
                if costs.get("mask") != mask.to_str():
                    raise ValueError(f"costs of {costs.get('mask')!r} given for the mask {mask.to_str()!r}")
                costs, cost_steps = {k: costs[k] for k in COST_FIELDS}, {}
            seconds = clock.total()
        record = {**self._describe(mask), "accuracy": round(acc, 3), **costs,
                  "heldout_images": len(self.heldout), "measure_s": round(seconds, 3),
                  "measure_steps_s": {**clock.steps, **cost_steps},
                  "measured_on": f"accuracy {self.device.type}, latency cpu"}
        self.cache.put(self.checkpoint, self.settings_key, record["mask"], record)
        return {**record, "cached": False}

    def profile(self, masks: Iterable[BlockMask | str], progress: Report = quiet) -> list[dict]:
        """Measure each mask (cached ones are read back), reporting one :func:`record_line` each."""
        masks = list(masks)
        out = []
        for i, m in enumerate(masks):
            out.append(self.measure(m))
            progress(f"  {i + 1}/{len(masks)}  {record_line(out[-1])}{'  (cached)' if out[-1]['cached'] else ''}",
                     (i + 1) / len(masks))
        return out

    def records(self) -> list[dict]:
        """Every record measured for this checkpoint and these settings."""
        return self.cache.all(self.checkpoint, self.settings_key)


class _threads:
    def __init__(self, n: int):
        self.n = n

    def __enter__(self):
        self.previous = torch.get_num_threads()
        torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        torch.set_num_threads(self.previous)


class _StepClock:
    """Wall seconds of each step of one measurement, and of all of them."""

    def __init__(self):
        self.start = time.perf_counter()
        self.steps: dict[str, float] = {}

    def step(self, name: str, fn, *args):
        t = time.perf_counter()
        out = fn(*args)
        self.steps[name] = round(time.perf_counter() - t, 4)
        return out

    def total(self) -> float:
        return time.perf_counter() - self.start


def masks_to_profile(spec: SuperNetSpec, limit: int | None = None, seed: int = 0) -> list[BlockMask]:
    """Masks worth measuring, in order: every distinct sub-cell at full depth (masks
    whose pruned cells are identical compute the same network, so one stands for all),
    then shallower variants (the first k slots of each stage on) of the largest cell.
    ``limit`` keeps the largest and smallest masks and a seeded random sample of the rest."""
    full: dict[str, BlockMask] = {}
    for states in itertools.product(*(spec.edge_choices(k) for k in range(len(EDGES)))):
        try:
            mask = BlockMask.full_depth(spec, states).validate(spec)
        except ValueError:
            continue
        full.setdefault(prune(mask.sub_cell(spec)).to_str(), mask)
    largest = BlockMask.largest(spec)
    shallow = []
    for depth in itertools.product(*(range(1, n + 1) for n in spec.slots)):
        if depth != spec.slots:
            slots = tuple(tuple(i < d for i in range(n)) for d, n in zip(depth, spec.slots))
            shallow.append(BlockMask(largest.edges, slots).validate(spec))
    masks = [largest, BlockMask.smallest(spec)]
    rest = [m for m in list(full.values()) + shallow if m not in masks]
    if limit is not None and len(masks) + len(rest) > limit:
        rng = np.random.default_rng(seed)
        rest = [rest[i] for i in sorted(rng.choice(len(rest), max(0, limit - len(masks)), replace=False))]
    return masks + rest


def table_accuracy(record: dict, dataset: str = "cifar10") -> float | None:
    """The NB201 table accuracy of a profiled record's cell (trained alone, 200 epochs), or
    None when the mask is not full depth (only full-depth sub-networks are NB201 cells)
    or the record has none."""
    if not record.get("full_depth"):
        return None
    return record.get(f"table_test_acc@{dataset}", record.get("table_acc"))


def kendall_tau(records: Sequence[dict], key: str = "accuracy", truth: str = "table_acc") -> tuple[float, int]:
    """Kendall tau between shared-weight accuracy and the table's over full-depth records."""
    rows = [r for r in records if r.get("full_depth") and r.get(truth) is not None]
    if len(rows) < 3:
        return float("nan"), len(rows)
    tau = kendalltau([r[key] for r in rows], [r[truth] for r in rows]).statistic
    return float(tau), len(rows)


__all__ = ["CACHE_NAME", "ProfileCache", "ProfileSettings", "Profiler", "accuracy", "kendall_tau", "masks_to_profile",
           "recalibrate_bn", "table_accuracy"]
