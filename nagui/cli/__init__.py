"""The ``nagui`` command.

    nagui info ARCH [--json]          every table value of a cell (ARCH: string or NB201 index)
    nagui measure ARCH [--json]       FLOPs, params, ORT / eager latency, peak activation memory
    nagui data fetch [--dest DIR]     download the NB201 tables at their pinned commits
    nagui data check [DIR]            verify a data dir (sizes and sha256)
    nagui predictor train [...]      fit the multi-objective predictor on table cells, save it
    nagui predictor predict DIR ARCH  predictions with 90% intervals from a saved predictor
    nagui predictor measure-local     measure k cells here and fit latency@local
    nagui predictor proxies ARCH      zero-cost proxies (synflow, jacov, nwot) of a cell on a batch of images
    nagui diffusion train [...]       train the graph diffusion prior, save it (safetensors + JSON)
    nagui generate [...] --json OUT   guided samples near the Pareto front, one JSON object each
    nagui supernet build|train|profile|select|export|ship
                                      the super-network: choose its super-cell, train it once, measure,
                                      pick and export sub-networks, package a trained run
    nagui bench NAME                  run a benchmark script from bench/ (flops, latency, predictor, generate,
                                      supernet, search, talk-table, app, pipeline, screenshots, load, cli,
                                      session)
    nagui models status|ship          the default models: cached / shipped in assets/models; remake the shipped ones
    nagui app [--port N]              start the Streamlit app (binds 127.0.0.1 unless --address says otherwise)

Exit codes: 0 ok, 1 data problem, 2 bad input (one-line message on stderr); `nagui supernet
select|export` exit 3 when no sub-network is within the limits.

One module per command group (cells, data, bench, predictor, generate, supernet, models, app),
each with its ``cmd_*`` functions and an ``add_parsers(sub)`` that adds its subcommands.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from ..data.sources import DataError
from ..errors import NaguiError
from . import app, bench, cells, data, generate, models, predictor, supernet
from .common import EXIT_DATA, EXIT_USAGE, UsageError

# the order of `nagui --help`
COMMAND_GROUPS = (cells, data, bench, predictor, generate, supernet, models, app)

__all__ = ["EXIT_DATA", "EXIT_USAGE", "UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nagui", description="Multi-objective NAS workbench on NAS-Bench-201.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except DataError as exc:
        print(f"nagui {args.command}: error: {exc.user_message}", file=sys.stderr)
        return EXIT_DATA
    except NaguiError as exc:
        print(f"nagui {args.command}: error: {exc.user_message}", file=sys.stderr)
        return EXIT_USAGE
