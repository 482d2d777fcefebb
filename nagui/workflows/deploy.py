"""Picking the deployed sub-network: limits → mask → live measurement → files.

Used by the app's Deploy page (and `nagui bench app`). One :class:`Deployment` per
trained run is shared by every browser session; its profiler measures one mask at a
time (the others queue), and every measurement lands in the run's profile cache, so a
mask is measured once and re-selecting it is a cache read.
"""
from __future__ import annotations

import hashlib
import io
import math
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..nets.supernet import BlockMask
from ..runs import Run
from ..supernet.export import CONFIG_NAME, ONNX_NAME, WEIGHTS_NAME, export_subnetwork
from ..supernet.profile import MEASUREMENT_LOCK, table_accuracy
from ..supernet.select import LIMITS, Limits, select
from .supernet_runs import live_profiler

SLIDER_METRICS = {key: limit for key, limit, _ in LIMITS if key != "params"}   # {"latency_ms": "max", ...}
EXPORT_VERSION = 2   # 2: the ONNX batch axis is free and the file carries its description (1 was remade)


@dataclass(frozen=True)
class Bounds:
    lo: float
    hi: float


def slider_range(b: Bounds, limit: str) -> tuple[float, float, float]:
    """(lo, hi, step) of a slider over the measured range ``b``. The ends are rounded to the
    step so that each end alone is feasible: outwards at the loose end, inwards at the
    tight end (a ``max`` limit at its lowest still admits the cheapest measured
    sub-network, a ``min`` limit at its highest the most accurate)."""
    if limit not in ("max", "min"):
        raise ValueError(f"limit must be 'max' or 'min', got {limit!r}")
    step = max(10 ** math.floor(math.log10(max(b.hi - b.lo, 1e-6) / 200)), 1e-4)
    if limit == "max":
        lo, hi = math.ceil(b.lo / step - 1e-9) * step, math.ceil(b.hi / step - 1e-9) * step
        lo = min(lo, b.hi)
    else:
        lo, hi = math.floor(b.lo / step + 1e-9) * step, math.floor(b.hi / step + 1e-9) * step
        hi = max(hi, b.lo)
    lo, hi = round(lo, 6), round(hi, 6)
    return lo, (hi if hi > lo else round(lo + step, 6)), step


def accuracy_interval(accuracy: float, images: int) -> float:
    """Half-width (points) of the 95% interval of an accuracy measured on ``images`` images
    (binomial: the measurement's own noise)."""
    p = min(max(accuracy / 100.0, 0.0), 1.0)
    return 196.0 * math.sqrt(max(p * (1 - p), 1e-4) / max(images, 1))


def accuracy_context(record: dict) -> str:
    """One sentence for a measured sub-network: its shared-weight accuracy, on how many
    images and how noisy, beside the NB201 table's accuracy of the same cell trained alone
    (full-depth sub-networks only: the table has no shallower networks)."""
    acc, n = record["accuracy"], int(record.get("heldout_images") or 0)
    parts = [f"Shared-weight accuracy {acc:.2f}% on {n:,} held-out images (±{accuracy_interval(acc, n):.1f} points, "
             "95%, from the number of images alone)"]
    if record.get("test_acc") is not None:
        t, tn = record["test_acc"], int(record.get("test_images") or 0)
        parts.append(f"{t:.2f}% on the {tn:,} CIFAR-10 test images (±{accuracy_interval(t, tn):.1f}), measured "
                     f"{'on ' + record['accuracy_device'] if record.get('accuracy_device') else 'when it was shipped'}")
    table = table_accuracy(record)
    if table is not None:
        reference = record.get("test_acc", acc)
        parts.append(f"the NB201 table gives this cell {table:.2f}% trained alone for 200 epochs, so weight sharing "
                     f"costs it {table - reference:.1f} points")
    elif not record.get("full_depth"):
        parts.append("not every slot is on, so the NB201 table has no value for this network")
    return "; ".join(parts) + "."


class Deployment:
    """A trained, profiled super-network run, ready to cut sub-networks from."""

    def __init__(self, run: Run, *, data_root=None, bench=None, settings=None):
        self.run = run
        self.profiler = live_profiler(run, data_root=data_root, bench=bench, settings=settings)
        self.spec = self.profiler.spec
        self._export_lock = threading.Lock()

    # ---- what the sliders move over -------------------------------------------------
    def records(self) -> list[dict]:
        return self.profiler.records()

    def bounds(self) -> dict[str, Bounds]:
        recs = self.records()
        if not recs:
            raise ValueError(f"run {self.run.id} has no measured sub-networks yet: profile it first")
        return {k: Bounds(min(r[k] for r in recs), max(r[k] for r in recs)) for k in SLIDER_METRICS}

    def choose(self, max_latency_ms: float | None = None, max_flops: float | None = None,
               min_accuracy: float | None = None):
        """The most accurate measured mask within the limits (a :class:`Selection`; when none
        fits, its message says which limit to relax and by how much)."""
        return select(self.records(), Limits(max_latency_ms=max_latency_ms, max_flops=max_flops,
                                             min_accuracy=min_accuracy))

    # ---- live measurement ---------------------------------------------------------------
    @staticmethod
    def busy() -> bool:
        """A sub-network is being measured now (by any session): a new measurement waits."""
        return MEASUREMENT_LOCK.locked()

    def cached(self, mask) -> dict | None:
        """The mask's record when it was measured before (None: it needs a measurement)."""
        return self.profiler.cached(BlockMask.parse(mask, self.spec))   # MaskError names the block to keep

    def measure_costs(self, mask) -> dict:
        """Its FLOPs, params and onnxruntime latency now, before the accuracy (shown first:
        they take a fraction of the time; pass them on to :meth:`measure`). Adds ``wall_s``
        and ``queued``."""
        return self._timed(self.profiler.measure_costs, mask)

    def measure(self, mask, costs: dict | None = None) -> dict:
        """The mask's record: cached, or measured now (BN recalibration, thop FLOPs,
        onnxruntime latency, held-out accuracy; ``costs`` from :meth:`measure_costs` are kept).
        Adds ``wall_s`` and ``queued``."""
        return self._timed(self.profiler.measure, mask, costs)

    def _timed(self, measure, mask, *args) -> dict:
        mask = BlockMask.parse(mask, self.spec)  # MaskError names the block to keep
        start = time.perf_counter()
        queued = self.busy()                   # another session's measurement is running: this one waits
        record = measure(mask, *args)
        return {**record, "wall_s": round(time.perf_counter() - start, 4), "queued": queued}

    # ---- files --------------------------------------------------------------------------
    def export(self, mask) -> dict[str, Path]:
        """ONNX + safetensors + JSON of the standalone sub-network, in the run folder
        (``export/<hash of the mask>/``; exported once)."""
        mask = BlockMask.parse(mask, self.spec)
        key = hashlib.sha256(f"{mask.to_str()} {EXPORT_VERSION}".encode()).hexdigest()[:16]
        folder = self.run.file(f"export/{key}")
        paths = {"onnx": folder / ONNX_NAME, "weights": folder / WEIGHTS_NAME, "config": folder / CONFIG_NAME}
        with self._export_lock:
            if not all(p.exists() for p in paths.values()):
                record = self.measure(mask)
                sub = self.profiler.calibrated(mask).cpu()
                meta = {"mask": record["mask"], "super_cell": self.spec.super_cell.to_str(),
                        "source_run": self.run.id, "source_checkpoint_sha256": self.profiler.checkpoint,
                        "measured": {k: record[k] for k in ("accuracy", "latency_ms", "flops", "params",
                                                            "heldout_images", "test_acc", "test_images",
                                                            "accuracy_device", "measured_on", "table_test_acc@cifar10")
                                     if k in record}}
                paths = export_subnetwork(sub, folder, meta, classes=self.profiler.heldout.classes)
        return paths

    def pytorch_zip(self, mask) -> bytes:
        """The PyTorch files (safetensors weights + JSON config, loadable with
        :func:`nagui.supernet.export.load_subnetwork`) as one zip."""
        paths = self.export(mask)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for kind, p in paths.items():
                if kind != "onnx":
                    z.write(p, arcname=p.name)
        return buf.getvalue()
