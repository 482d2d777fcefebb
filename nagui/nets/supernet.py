"""The super-network: NB201's macro skeleton whose cells share one *super-cell* and whose
blocks can be switched off.

Blocks are (a) the six edge operations of the super-cell — each one is ``on`` (the
super-cell's op), or switched down to ``skip`` (identity) or ``none`` (removed) — and
(b) the cell slots of the macro network (3 stages x up to 5) — a disabled slot is the
identity. A :class:`BlockMask` says which blocks are on. Every mask's cells are one NB201
cell (:meth:`BlockMask.sub_cell`), so with all slots on (5 per stage) its table values
are known. All cells of a sub-network use the same edge states, as in NB201.

The forward pass computes only live edges (ops that reach the cell's output), exactly as
the exported :class:`SubNetwork` does, so shared-weight accuracy is the accuracy of the
file a user deploys.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import NaguiError
from ..space import EDGES, Arch, is_output_connected, live_edges
from .cell import InferCell, ResNetBasicblock, make_op

EDGE_STATES = ("on", "skip", "none")
STAGES = 3
MAX_SLOTS = 5


class MaskError(NaguiError, ValueError):
    """A block mask that cannot be built (bad text, wrong shape, disconnected cell, empty stage)."""


def _edge_name(k: int) -> str:
    src, dst = EDGES[k]
    return f"edge {src}->{dst}"


@dataclass(frozen=True)
class SuperNetSpec:
    """What a super-network is: its super-cell, slots per stage, channels and classes."""

    super_cell: Arch
    slots: tuple[int, int, int] = (5, 5, 5)
    channels: int = 16
    num_classes: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.super_cell, Arch):
            object.__setattr__(self, "super_cell", Arch.parse(self.super_cell))
        slots = tuple(int(s) for s in self.slots)
        if len(slots) != STAGES or any(not 1 <= s <= MAX_SLOTS for s in slots):
            raise MaskError(f"slots must be {STAGES} numbers in 1..{MAX_SLOTS} (cells per stage), got {self.slots!r}")
        object.__setattr__(self, "slots", slots)
        for name in ("channels", "num_classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise MaskError(f"{name} must be a positive int, got {value!r}")
        if not is_output_connected(self.super_cell):
            raise MaskError(f"super-cell {self.super_cell} has no path from input to output: no sub-network would "
                            "compute anything")

    def as_dict(self) -> dict:
        return {"super_cell": self.super_cell.to_str(), "slots": list(self.slots), "channels": self.channels,
                "num_classes": self.num_classes}

    @classmethod
    def from_dict(cls, d: dict) -> "SuperNetSpec":
        try:
            return cls(Arch.parse(d["super_cell"]), tuple(d["slots"]), int(d["channels"]), int(d["num_classes"]))
        except (KeyError, TypeError) as exc:
            raise MaskError(f"a super-network description needs super_cell, slots, channels, num_classes: {exc}") from None

    def edge_choices(self, k: int) -> tuple[str, ...]:
        """The distinct states edge ``k`` can take. ``skip`` needs no weights, so every edge
        offers it, also one whose super-cell op is ``none``; ``on`` coincides with
        ``skip``/``none`` where the super-cell's op already is one."""
        if self.super_cell.ops[k] in ("none", "skip_connect"):
            return ("skip", "none")
        return EDGE_STATES


def _effective_op(super_op: str, state: str) -> str:
    if state == "skip":
        return "skip_connect"
    if state == "none":
        return "none"
    return super_op


@dataclass(frozen=True)
class BlockMask:
    """Which blocks are on. ``edges``: 6 states in NB201's edge order; ``slots``: per stage,
    one bool per slot of the super-network (a cell on or replaced by the identity)."""

    edges: tuple[str, ...]
    slots: tuple[tuple[bool, ...], ...]

    # -- construction ------------------------------------------------------------------
    @classmethod
    def largest(cls, spec: SuperNetSpec) -> "BlockMask":
        return cls(("on",) * len(EDGES), tuple((True,) * n for n in spec.slots)).canonical(spec)

    @classmethod
    def smallest(cls, spec: SuperNetSpec) -> "BlockMask":
        """Cheapest valid mask: every edge down (a single skip keeps the cell connected) and
        one cell per stage."""
        edges = ["none"] * len(EDGES)
        edges[EDGES.index((0, 3))] = "skip"
        return cls(tuple(edges), tuple((True,) + (False,) * (n - 1) for n in spec.slots)).canonical(spec)

    @classmethod
    def full_depth(cls, spec: SuperNetSpec, edges) -> "BlockMask":
        """``edges`` (states, or a sub-cell :class:`Arch`) with every slot on."""
        if isinstance(edges, (Arch, str)) and not (isinstance(edges, str) and edges in EDGE_STATES):
            edges = states_for(spec, Arch.parse(edges))
        return cls(tuple(edges), tuple((True,) * n for n in spec.slots)).canonical(spec)

    @classmethod
    def random(cls, spec: SuperNetSpec, generator: torch.Generator, slot_off: float = 0.3) -> "BlockMask":
        """A uniformly random valid mask (edge states uniform over each edge's choices; each
        slot off with probability ``slot_off``); redrawn until valid."""
        for _ in range(1000):
            edges = []
            for k in range(len(EDGES)):
                choices = spec.edge_choices(k)
                edges.append(choices[int(torch.randint(len(choices), (1,), generator=generator))])
            slots = tuple(tuple(bool(torch.rand((), generator=generator) >= slot_off) for _ in range(n))
                          for n in spec.slots)
            mask = cls(tuple(edges), slots)
            try:
                return mask.validate(spec)
            except MaskError:
                continue
        raise MaskError("could not draw a valid random mask in 1000 tries")  # pragma: no cover

    # -- text form: "on,skip,none,on,on,on|11111,11011,10000" ----------------------------
    def to_str(self) -> str:
        return ",".join(self.edges) + "|" + ",".join("".join("1" if b else "0" for b in s) for s in self.slots)

    def __str__(self) -> str:
        return self.to_str()

    @classmethod
    def parse(cls, text: str, spec: SuperNetSpec | None = None) -> "BlockMask":
        """``"on,skip,none,on,on,on|11111,11111,11111"``: six edge states in NB201's edge
        order (0->1, 0->2, 1->2, 0->3, 1->3, 2->3), then per stage one 0/1 per slot."""
        if isinstance(text, BlockMask):
            return text.validate(spec) if spec is not None else text
        if not isinstance(text, str):
            raise MaskError(f"a mask must be text like 'on,skip,none,on,on,on|11111,11111,11111', got "
                            f"{type(text).__name__}")
        parts = text.strip().split("|")
        if len(parts) != 2:
            raise MaskError(f"mask {text!r}: expected '<6 edge states>|<slots per stage>', e.g. "
                            "'on,skip,none,on,on,on|11111,11111,11111'")
        edges = tuple(s.strip() for s in parts[0].split(","))
        if len(edges) != len(EDGES):
            raise MaskError(f"mask {text!r}: {len(edges)} edge states, expected {len(EDGES)} "
                            f"(one per edge: {', '.join(_edge_name(k) for k in range(len(EDGES)))})")
        for k, s in enumerate(edges):
            if s not in EDGE_STATES:
                raise MaskError(f"mask {text!r}: {_edge_name(k)} has state {s!r}; use one of {', '.join(EDGE_STATES)}")
        stages = parts[1].strip().split(",")
        if len(stages) != STAGES:
            raise MaskError(f"mask {text!r}: {len(stages)} stages of slots, expected {STAGES}")
        slots = []
        for i, s in enumerate(stages):
            s = s.strip()
            if not re.fullmatch(r"[01]{1,%d}" % MAX_SLOTS, s):
                raise MaskError(f"mask {text!r}: stage {i + 1} slots {s!r} must be 1-{MAX_SLOTS} digits 0/1")
            slots.append(tuple(c == "1" for c in s))
        mask = cls(edges, tuple(slots))
        return mask.validate(spec) if spec is not None else mask

    # -- meaning -------------------------------------------------------------------------
    def sub_cell(self, spec: SuperNetSpec) -> Arch:
        """The NB201 cell every active slot computes."""
        return Arch(tuple(_effective_op(op, s) for op, s in zip(spec.super_cell.ops, self.edges)))

    def canonical(self, spec: SuperNetSpec) -> "BlockMask":
        """Same sub-network, one spelling: ``on`` where the super-cell's op is skip/none is
        written as that state."""
        edges = tuple({"skip_connect": "skip", "none": "none"}.get(_effective_op(op, s), "on")
                      for op, s in zip(spec.super_cell.ops, self.edges))
        return BlockMask(edges, self.slots)

    def depth(self) -> tuple[int, ...]:
        return tuple(sum(s) for s in self.slots)

    def validate(self, spec: SuperNetSpec) -> "BlockMask":
        """The canonical mask, or :class:`MaskError` saying which block to keep."""
        if len(self.edges) != len(EDGES) or any(s not in EDGE_STATES for s in self.edges):
            raise MaskError(f"mask needs {len(EDGES)} edge states from {EDGE_STATES}, got {self.edges!r}")
        if len(self.slots) != STAGES:
            raise MaskError(f"mask needs slots for {STAGES} stages, got {len(self.slots)}")
        for i, (given, n) in enumerate(zip(self.slots, spec.slots)):
            if len(given) != n:
                raise MaskError(f"stage {i + 1} of this super-network has {n} slots, the mask gives {len(given)}")
            if not any(given):
                raise MaskError(f"stage {i + 1} has every cell slot off; keep slot {i + 1}.1 on (a stage needs "
                                "at least one cell)")
        cell = self.sub_cell(spec)
        if not is_output_connected(cell):
            raise MaskError(f"this mask disconnects the cell's output (node 3) from its input: "
                            f"{_reconnect_advice(spec, self.edges)}")
        return self.canonical(spec)


def _reconnect_advice(spec: SuperNetSpec, edges: tuple[str, ...]) -> str:
    """Name one block whose switching back on reconnects the cell."""
    ops = [_effective_op(op, s) for op, s in zip(spec.super_cell.ops, edges)]
    down = [k for k, op in enumerate(ops) if op == "none"]

    def connected_with(keys) -> bool:
        trial = list(ops)
        for k in keys:
            trial[k] = "skip_connect"
        return is_output_connected(Arch(tuple(trial)))

    def advice(k: int) -> str:
        if spec.super_cell.ops[k] == "none":
            return f"set {_edge_name(k)} to skip"
        return f"keep {_edge_name(k)} on (or set it to skip)"

    # a disconnected cell always has 0->3 down, and a skip there reconnects it: one block suffices
    for k in sorted(down, key=lambda k: (EDGES[k][1] != 3, EDGES[k][0] == 0, k)):   # prefer a conv into the output
        if connected_with([k]):
            return advice(k)
    return advice(EDGES.index((0, 3)))  # pragma: no cover


def states_for(spec: SuperNetSpec, cell: Arch) -> tuple[str, ...]:
    """Edge states that make ``cell`` from the super-cell; MaskError if it is not a sub-cell."""
    states = []
    for k, (want, have) in enumerate(zip(cell.ops, spec.super_cell.ops)):
        if want == have:
            states.append("on")
        elif want == "skip_connect":
            states.append("skip")
        elif want == "none":
            states.append("none")
        else:
            raise MaskError(f"{cell} is not a sub-cell of {spec.super_cell}: {_edge_name(k)} is {want}, the "
                            f"super-cell offers {have}, skip_connect or none")
    return tuple(states)


# ---------------------------------------------------------------------------- modules
class SuperCell(nn.Module):
    """One cell slot: the six super-cell ops; ``forward`` runs the live edges of a sub-cell."""

    def __init__(self, super_cell: Arch, channels: int):
        super().__init__()
        self.super_cell = super_cell
        self.edges = nn.ModuleList(make_op(op, channels) for op in super_cell.ops)

    def forward(self, x: torch.Tensor, sub_cell: Arch) -> torch.Tensor:
        alive = live_edges(sub_cell)
        nodes: list[torch.Tensor | None] = [x, None, None, None]
        for k, (src, dst) in enumerate(EDGES):
            if not alive[k] or nodes[src] is None:
                continue
            op = sub_cell.ops[k]
            out = nodes[src] if op == "skip_connect" else self.edges[k](nodes[src])
            nodes[dst] = out if nodes[dst] is None else nodes[dst] + out
        return nodes[3]


def _build_skeleton(net: nn.Module, channels: int, num_classes: int, stage_cells) -> None:
    """NB201's macro skeleton on ``net``: stem, 3 stages (C, 2C, 4C channels) whose cells
    ``stage_cells(stage, channels)`` makes, joined by residual reduction blocks, then
    BN-ReLU-global-average-pool-linear."""
    c = channels
    net.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
    net.stages = nn.ModuleList()
    net.reductions = nn.ModuleList()
    c_prev = c
    for s, c_stage in enumerate((c, 2 * c, 4 * c)):
        if s > 0:
            net.reductions.append(ResNetBasicblock(c_prev, c_stage, 2))
        net.stages.append(nn.ModuleList(stage_cells(s, c_stage)))
        c_prev = c_stage
    net.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
    net.global_pooling = nn.AdaptiveAvgPool2d(1)
    net.classifier = nn.Linear(c_prev, num_classes)


class SuperNetwork(nn.Module):
    """Stem, 3 stages of super-cell slots joined by NB201's reduction blocks, classifier.
    ``forward(x, mask)`` runs the sub-network of ``mask``; ``forward(x, [m1, m2, ...])``
    runs several (one DDP forward for the sandwich rule) and returns a list of logits."""

    def __init__(self, spec: SuperNetSpec):
        super().__init__()
        self.spec = spec
        _build_skeleton(self, spec.channels, spec.num_classes,
                        lambda s, c: [SuperCell(spec.super_cell, c) for _ in range(spec.slots[s])])

    def _one(self, x: torch.Tensor, mask: BlockMask) -> torch.Tensor:
        cell = mask.sub_cell(self.spec)
        x = self.stem(x)
        for s, stage in enumerate(self.stages):
            if s > 0:
                x = self.reductions[s - 1](x)
            for slot, on in zip(stage, mask.slots[s]):
                if on:
                    x = slot(x, cell)
        return self.classifier(self.global_pooling(self.lastact(x)).flatten(1))

    def forward(self, x: torch.Tensor, mask):
        if isinstance(mask, (list, tuple)) and mask and isinstance(mask[0], BlockMask):
            return [self._one(x, m) for m in mask]
        return self._one(x, mask)


class SubNetwork(nn.Module):
    """A standalone sub-network: NB201 cells (pruned: only live edges exist) in the active
    slots, no super-network around it. Built from a config; loads its own weights."""

    def __init__(self, cell: Arch, depth: tuple[int, int, int], channels: int, num_classes: int):
        super().__init__()
        self.cell, self.depth = Arch.parse(cell), tuple(depth)
        _build_skeleton(self, channels, num_classes,
                        lambda s, c: [InferCell(self.cell, c, pruned=True) for _ in range(self.depth[s])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for s, stage in enumerate(self.stages):
            if s > 0:
                x = self.reductions[s - 1](x)
            for cell in stage:
                x = cell(x)
        return self.classifier(self.global_pooling(self.lastact(x)).flatten(1))


def extract_subnetwork(supernet: SuperNetwork, mask: BlockMask) -> SubNetwork:
    """Copy the shared weights of ``mask``'s blocks into a standalone :class:`SubNetwork`;
    disabled blocks are not in it at all."""
    spec = supernet.spec
    mask = mask.validate(spec)
    cell = mask.sub_cell(spec)
    sub = SubNetwork(cell, mask.depth(), spec.channels, spec.num_classes)
    sub.stem.load_state_dict(supernet.stem.state_dict())
    sub.reductions.load_state_dict(supernet.reductions.state_dict())
    sub.lastact.load_state_dict(supernet.lastact.state_dict())
    sub.classifier.load_state_dict(supernet.classifier.state_dict())
    for s, stage in enumerate(supernet.stages):
        active = [slot for slot, on in zip(stage, mask.slots[s]) if on]
        for target, source in zip(sub.stages[s], active):
            for module, k in zip(target.edges, target.edge_ids):
                if module.state_dict():                      # convs carry weights; skip/pool do not
                    module.load_state_dict(source.edges[k].state_dict())
    return sub.eval()


def sub_cell_count(spec: SuperNetSpec) -> int:
    n = 1
    for k in range(len(EDGES)):
        n *= len(spec.edge_choices(k))
    return n


__all__ = ["EDGE_STATES", "BlockMask", "MaskError", "SubNetwork", "SuperCell", "SuperNetSpec", "SuperNetwork",
           "extract_subnetwork", "states_for", "sub_cell_count"]
