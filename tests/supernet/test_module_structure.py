"""The super-network package's layout: no import cycle between its modules (imports inside
functions count too) and modules small enough to read at one sitting."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import nagui.supernet

PACKAGE = "nagui.supernet"
ROOT = Path(nagui.supernet.__file__).resolve().parent
MODULES = sorted(p.stem for p in ROOT.glob("*.py") if p.stem != "__init__")
NEW = ["checkpoint", "distributed", "evaluation", "sandwich", "trainer", "training_data"]


def _internal_imports(name: str) -> set[str]:
    """The modules of this package that ``name`` imports anywhere in its source."""
    tree = ast.parse((ROOT / f"{name}.py").read_text(), filename=f"{name}.py")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = f"{PACKAGE}.{node.module}" if node.module else PACKAGE
            elif node.level == 0:
                base = node.module or ""
            else:                                   # ``..x``: outside the package
                continue
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            if target.startswith(PACKAGE + "."):
                module = target[len(PACKAGE) + 1:].split(".")[0]
                if module in MODULES and module != name:
                    found.add(module)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as a path that returns to its start), or None."""
    state: dict[str, int] = {}               # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("name", ["profile", "train", *NEW])
def test_modules_import(name):
    importlib.import_module(f"{PACKAGE}.{name}")


def test_no_import_cycle_inside_the_package():
    graph = {name: _internal_imports(name) for name in MODULES}
    assert graph["profile"] >= {"checkpoint", "evaluation", "training_data"}   # the walker sees real imports
    assert _cycle(graph) is None, "import cycle: " + " -> ".join(_cycle(graph))
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]   # and finds a cycle


def test_training_modules_never_reach_profile():
    graph = {name: _internal_imports(name) for name in MODULES}
    seen, todo = set(), ["train"]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    assert "profile" not in seen, "the training code imports profile.py"


def _lines(name: str) -> int:
    return len((ROOT / f"{name}.py").read_text().splitlines())


def test_train_only_gathers_names_its_command_line_lives_in_the_cli():
    assert _lines("train") < 40
    assert "argparse" not in (ROOT / "train.py").read_text()
    cli = importlib.import_module("nagui.cli.supernet_train")
    assert cli.build_parser().prog == "python -m nagui.cli.supernet_train"


@pytest.mark.parametrize("name", MODULES)
def test_module_is_small(name):
    assert _lines(name) <= 350, f"nagui/supernet/{name}.py has {_lines(name)} lines: split it"


def test_train_still_exports_its_names():
    train = importlib.import_module(f"{PACKAGE}.train")
    for name in train.__all__:
        assert hasattr(train, name), name
    for name in ("CALIBRATION_IMAGES", "MOMENTUM", "cosine_lr", "recalibrated_accuracy"):  # imported from it before
        assert hasattr(train, name), name
    profile = importlib.import_module(f"{PACKAGE}.profile")
    evaluation = importlib.import_module(f"{PACKAGE}.evaluation")
    assert profile.accuracy is evaluation.accuracy and profile.recalibrate_bn is evaluation.recalibrate_bn
