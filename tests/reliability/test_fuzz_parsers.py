"""Fuzzing every parser of user text (hypothesis): arch strings and op indices, objective
names, dataset names, latency limits (``raspi4=5``), preferences, block masks, the table
filter, and the command line. Each may accept or refuse an input, but a refusal must be
the project's own error type with a message naming what was wrong — never a bare
KeyError/IndexError/TypeError from deep inside.

The module counts the inputs it tried; the last test checks there were at least 10,000.
"""
from __future__ import annotations

import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nagui.data.benchmark import DATASETS, DEVICES
from nagui.diffusion import ConstraintError, PreferenceError, Problem, ProblemError, parse_latency_limit, parse_preferences
from nagui.nets.supernet import BlockMask, MaskError
from nagui.space import OPS, Arch, InvalidArchError

TRIED: dict[str, int] = {}
EXAMPLES = 1500
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tried(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


def near(words, extra: str = "") -> st.SearchStrategy[str]:
    """Text built from the grammar's own pieces, plus junk: most of it almost valid."""
    pieces = st.sampled_from(list(words) + list(extra) + ["", " ", ",", "|", "+", "~", "=", "@", "0", "-1", "1e309",
                                                           "nan", "inf", "\x00", "é", "../", "'", '"'])
    return st.one_of(st.text(max_size=40), st.lists(pieces, max_size=12).map("".join))


ARCH_WORDS = [f"|{op}~{i}|" for op in OPS for i in range(3)] + list(OPS) + ["~0", "~1", "~2", "~3"]


@FAST
@given(near(ARCH_WORDS))
def test_arch_strings(text):
    tried("arch string")
    try:
        arch = Arch.from_str(text)
    except InvalidArchError as exc:
        assert str(exc) and (exc.token is not None or exc.position is not None or "arch" in str(exc))
    else:
        assert Arch.from_str(arch.to_str()) == arch


@FAST
@given(st.one_of(st.lists(st.one_of(st.integers(-10, 10), st.floats(allow_nan=True), st.text(max_size=3),
                                    st.none(), st.booleans()), max_size=9),
                 st.integers(), st.floats(), st.none(), st.binary(max_size=8)))
def test_arch_from_anything(value):
    tried("arch value")
    try:
        arch = Arch.parse(value)
    except InvalidArchError as exc:
        assert str(exc)
    else:
        assert len(arch.ops) == 6


OBJECTIVE_WORDS = ["test_acc", "acc", "accuracy", "flops", "params", "latency@", *DEVICES, *DATASETS]


@FAST
@given(st.one_of(st.sampled_from(DATASETS), near(DATASETS)), near(OBJECTIVE_WORDS, extra=","))
def test_problem_dataset_and_objectives(dataset, objectives):
    tried("dataset + objectives")
    try:
        problem = Problem.parse(dataset, objectives)
    except ProblemError as exc:
        assert str(exc)
    else:
        assert problem.dataset in DATASETS and problem.objectives[0].startswith("test_acc@")


@FAST
@given(near([*DEVICES, "=", "5", "0.3", "-2", "1e3"]))
def test_latency_limits(text):
    tried("latency limit")
    try:
        device, ms = parse_latency_limit(text)
    except ConstraintError as exc:
        assert "latency limit" in str(exc)
    else:
        assert device in DEVICES and np.isfinite(ms) and ms > 0


@FAST
@given(st.lists(near(["0.5", "1", "0", ",", "-1", "nan", "1e400"]), min_size=1, max_size=3), st.integers(1, 4))
def test_preferences(texts, objectives):
    tried("preference")
    try:
        w = parse_preferences(texts, objectives)
    except PreferenceError as exc:
        assert "preference" in str(exc)
    else:
        assert w.shape == (len(texts), objectives) and np.allclose(w.sum(axis=1), 1) and (w >= 0).all()


MASK_WORDS = ["on", "skip", "none", ",", "|", "0", "1", "11111", "10", "off"]


@FAST
@given(st.one_of(near(MASK_WORDS), st.integers(), st.none()))
def test_block_masks(text):
    tried("block mask")
    try:
        mask = BlockMask.parse(text)
    except MaskError as exc:
        assert "mask" in str(exc)
    else:
        assert BlockMask.parse(mask.to_str()) == mask


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
@given(search=st.text(alphabet=string.printable + "é\x00", max_size=30),
       ops=st.lists(st.sampled_from(list(OPS) + ["conv", "", "skip"]), max_size=3),
       rng=st.one_of(st.none(), st.tuples(st.floats(allow_nan=True), st.floats(allow_nan=True))))
def test_table_filter(bench, search, ops, rng):
    """The Search space page's filter: free text (regex characters included), ops, ranges."""
    from nagui.data.filters import FilterError, TableFilter, apply_filter

    tried("table filter")
    try:
        flt = TableFilter(search=search, contains_ops=tuple(ops), flops_range=rng)
    except FilterError as exc:
        assert str(exc)
        return
    kept = apply_filter(bench.table, flt)
    assert len(kept) <= len(bench.table)


CLI_WORDS = ["info", "generate", "--objectives", "--max-latency", "--forbid", "--preference", "--dataset", "--json",
             "-", "--n", "0", "raspi4=5", "test_acc,flops", "cifar10", "nor_conv_3x3", "0.5,0.5", "--scale", "-1",
             "--steps", "supernet", "select", "--mask", "on,on,on,on,on,on|1,1,1", "bench", "search"]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset=near(DATASETS), objectives=near(OBJECTIVE_WORDS, ","), latency=st.lists(near(list(DEVICES) + ["=5"]),
                                                                                       max_size=2),
       forbid=near(list(OPS) + [","]), preference=st.lists(near(["0.5", ","]), max_size=2))
def test_generate_command_line(dataset, objectives, latency, forbid, preference):
    """`nagui generate` with fuzzed values for every text option; --n 0 is refused last, so
    nothing is generated: the command exits 2 with one message, never a traceback."""
    import contextlib
    import io

    from nagui.cli import main

    tried("command line")
    argv = ["generate", "--dataset", dataset, "--objectives", objectives, "--forbid", forbid, "--json", "-",
            "--n", "0"] + [a for lat in latency for a in ("--max-latency", lat)] + \
        [a for p in preference for a in ("--preference", p)]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:                  # argparse's own usage errors (exit 2, message printed)
            code = exc.code
    assert code == 2, err.getvalue()
    assert "error" in err.getvalue() and "Traceback" not in err.getvalue()


@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(st.lists(st.sampled_from(CLI_WORDS) | st.text(max_size=12), max_size=6))
def test_any_command_line_parses_or_says_why(argv):
    """Random words for the whole command line: argparse either builds a namespace or exits
    with a usage message (exit 2)."""
    from nagui.cli import build_parser

    tried("command line")
    import contextlib
    import io

    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            assert exc.code in (0, 2)


def test_at_least_ten_thousand_inputs_were_tried():
    total = sum(TRIED.values())
    if len(TRIED) < 8:
        pytest.skip(f"run the whole module to count (ran: {sorted(TRIED)})")
    print(f"fuzzed inputs: {total} ({TRIED})")
    assert total >= 10_000, TRIED
