"""The package's layering, checked over every module of nagui/ (not a sample of them)."""
from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import nagui
from nagui.errors import NaguiError

PACKAGE = Path(nagui.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
MODULES = sorted(".".join(("nagui",) + p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
                 for p in SOURCES if p.name != "__main__.py")


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_every_module_is_walked():
    assert len(SOURCES) > 100 and len(MODULES) == len([p for p in SOURCES if p.name != "__main__.py"])
    assert {"nagui.objectives", "nagui.problem", "nagui.space.flat", "nagui.supernet.train"} <= set(MODULES)


def test_no_module_of_nagui_imports_streamlit_even_inside_a_function():
    offenders = [str(p.relative_to(PACKAGE)) for p in SOURCES
                 if any(n == "streamlit" or n.startswith("streamlit.") for n in _imported_modules(p))]
    assert offenders == []


def test_importing_every_module_of_nagui_loads_no_streamlit():
    code = ("import importlib, sys\n"
            f"for name in {MODULES!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'streamlit' not in sys.modules, name + ' imported streamlit'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_every_error_class_of_nagui_shares_the_user_facing_base():
    errors = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, BaseException):
                errors[f"{name}.{cls_name}"] = cls
    assert len(errors) >= 20
    outside = sorted(n for n, c in errors.items() if not issubclass(c, NaguiError))
    assert outside == []


def test_the_flat_cell_index_is_computed_in_one_place():
    copies = [str(p.relative_to(PACKAGE)) for p in SOURCES if p.name != "flat.py"
              and ("** np.arange(" in p.read_text() or "** torch.arange(" in p.read_text())]
    assert copies == []


def test_the_noise_schedule_is_defined_once_below_the_diffusion_engine_and_the_predictor():
    """alpha_bar lives in nagui.noise_schedule; the predictor does not import the diffusion
    engine for it, nor the engine the predictor."""
    definitions = [str(p.relative_to(PACKAGE)) for p in SOURCES if "def alpha_bar(" in p.read_text()]
    assert definitions == ["noise_schedule.py"]
    schedule_imports = {n.module for n in ast.walk(ast.parse((PACKAGE / "diffusion" / "schedule.py").read_text()))
                        if isinstance(n, ast.ImportFrom) and n.module}
    assert "predictor.noise" not in schedule_imports and "noise_schedule" in schedule_imports


def _loaded_by(imports: str) -> set[str]:
    """The nagui modules that importing ``imports`` loads."""
    code = f"import sys, {imports}; print(' '.join(m for m in sys.modules if m.split('.')[0] == 'nagui'))"
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.split())


def _imports_only_the_standard_library(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and node.module.split(".")[0] in sys.stdlib_module_names
    return all(alias.name.split(".")[0] in sys.stdlib_module_names for alias in node.names)


def test_imports_sit_at_the_top_unless_deferred_for_a_fast_start_or_said_why():
    """Issue #18: an import inside a function is allowed in a module that `nagui --help` or the
    app's Home page loads, when the module says so (its deferred imports keep the help and
    the first page fast, without torch), or where the import's own line says why."""
    help_closure = _loaded_by("nagui.cli")
    # what the Home page imports, and what its stage_status() imports on its first run
    home_closure = _loaded_by("nagui.data, nagui.runs, nagui.tasks, nagui.workflows.pipeline, nagui.viz.pipeline, "
                              "nagui.workflows.supernet_runs")
    offenders = []
    for path in SOURCES:
        name = ".".join(("nagui",) + path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if not isinstance(inner, (ast.Import, ast.ImportFrom)):
                    continue
                if _imports_only_the_standard_library(inner):   # deferring it makes nothing faster
                    if not ("#" in lines[inner.lineno - 1] and "deferred" in lines[inner.lineno - 1]):
                        where = f"{name}:{inner.lineno} {lines[inner.lineno - 1].strip()}"
                        offenders.append(f"{where} (standard library)")
                    continue
                if (name in help_closure and "nagui --help" in text) or (name in home_closure
                                                                          and "the Home page" in text):
                    continue
                if "#" in lines[inner.lineno - 1] and "deferred" in lines[inner.lineno - 1]:
                    continue
                offenders.append(f"{name}:{inner.lineno} {lines[inner.lineno - 1].strip()}")
    assert offenders == []


def test_no_module_decides_an_objective_kind_by_its_name_prefix():
    """Whether a column is a latency, an accuracy or a cost is asked of nagui.objectives."""
    roots = [PACKAGE, PACKAGE.parent / "app_pages"]
    patterns = ('startswith("latency', "startswith('latency", '"acc" in ', "'acc' in ")
    offenders = [str(p) for root in roots for p in root.rglob("*.py")
                 if p.name != "objectives.py" and any(s in p.read_text() for s in patterns)]
    assert offenders == []


def test_every_progress_callback_has_the_one_shape():
    """``report(text, fraction=None)`` (nagui.progress.Report): no parameter named progress,
    say or report is typed as another callable, nor defaulted to a one-argument logger."""
    import re

    roots = [PACKAGE, PACKAGE.parent / "app_pages", PACKAGE.parent / "bench"]
    other_shape = re.compile(r"\b(progress|say|report)\s*:\s*Callable|\b(say|progress)\s*[:=][^,)]*= ?log\.info\b"
                             r"|\b(say|progress|report)=lambda (i, n|s, n|s|t|text|event|_msg)\b[:,]")
    offenders = [f"{p}: {m.group(0)}" for root in roots for p in root.rglob("*.py")
                 for m in other_shape.finditer(p.read_text())]
    assert offenders == []


def test_no_module_over_400_lines_and_no_function_over_80_in_nagui_and_the_pages():
    pages = sorted((PACKAGE.parent / "app_pages").glob("*.py")) + sorted((PACKAGE.parent / "app_ui").glob("*.py"))
    assert pages, "the app's pages were not found beside the package"
    too_long = []
    for path in SOURCES + pages:
        text = path.read_text()
        where = path.relative_to(PACKAGE.parent)
        if text.count("\n") > 400:
            too_long.append(f"{where}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80:
                too_long.append(f"{where}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not too_long, "\n".join(too_long)
