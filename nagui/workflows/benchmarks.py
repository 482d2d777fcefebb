"""Where the app finds search-benchmark results (`nagui bench search --out DIR` and
`nagui bench talk-table --out DIR`)."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..data.sources import REPO_ROOT
from ..runs import RunStore

RESULT_FILES = ("summary.csv", "talk_table.md")   # the search benchmark's, the talk table's


def search_result_dirs(store: RunStore) -> list[Path]:
    """Folders holding a ``summary.csv`` from the search benchmark or a ``talk_table.md``:
    ``<runs>/search-bench/*`` and ``bench-search/`` in the checkout (both commands' default --out)."""
    folders = sorted(store.root.joinpath("search-bench").glob("*")) + [REPO_ROOT / "bench-search"]
    return [p for p in folders if any((p / name).is_file() for name in RESULT_FILES)]


def markdown_sections(markdown: str) -> dict[str, str]:
    """``### Title`` sections of a summary.md: {title: body}."""
    sections, title = {}, None
    for line in markdown.splitlines():
        if line.startswith("### "):
            title = line[4:].strip()
            sections[title] = ""
        elif title is not None:
            sections[title] += line + "\n"
    return {k: v.strip() for k, v in sections.items()}


def find_search_results(store: RunStore) -> dict[str, dict]:
    """``{folder: {"modified", "tables": {title: rows}, "curves": {title: png}, "markdown",
    "sections", "talk"}}``, newest first (``talk``: talk_table.md's text, or "")."""
    out = {}
    for folder in search_result_dirs(store):
        summary, talk_md = folder / "summary.csv", folder / "talk_table.md"
        try:
            talk = talk_md.read_text() if talk_md.is_file() else ""
            with open(summary, newline="") if summary.is_file() else _no_rows() as f:
                rows = list(csv.DictReader(f))
        except (OSError, csv.Error, UnicodeDecodeError):
            continue
        md = folder / "summary.md"
        tables: dict[str, list[dict]] = {}
        curves: dict[str, Path] = {}
        for r in rows:  # one table per problem, as the Markdown summary has them
            dataset, objectives = r.pop("dataset", None), r.pop("objectives", None)
            title = " · ".join(v for v in (dataset, objectives) if v) or "Summary"
            tables.setdefault(title, []).append(r)
            png = folder / "curves" / f"{dataset}_{str(objectives).replace('+', '-').replace('@', '-')}.png"
            if png.is_file():
                curves[title] = png
        for title, table in tables.items():          # summary.csv holds every problem's columns
            empty = [k for k in table[0] if all(r.get(k, "") == "" for r in table)]
            tables[title] = [{k: v for k, v in r.items() if k not in empty} for r in table]
        markdown = md.read_text() if md.is_file() else ""
        modified = max(p.stat().st_mtime for p in (summary, talk_md) if p.is_file())
        out[str(folder)] = {"modified": modified, "tables": tables, "curves": curves,
                            "markdown": markdown, "sections": markdown_sections(markdown), "talk": talk}
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["modified"]))


def _no_rows():
    """An empty CSV stream (a folder with the talk table only)."""
    return io.StringIO("")


_COLUMN_WORDS = {"wall_s": "wall time here (s)", "s_per_run": "seconds per run", "seeds": "seeds",
                 "min_to_0.5": "search minutes to within 0.5 of the optimum"}
_COLUMN_PATTERNS = ((re.compile(r"hv@(\d+)"), "HV ratio after {} trained"),
                    (re.compile(r"best@(\d+)"), "best accuracy after {} trained"),
                    (re.compile(r"to_([\d.]+)"), "trained until within {} of the optimum"),
                    (re.compile(r"min@(\d+)"), "search minutes for {} trained"))


def readable_column(name: str) -> str:
    """A results column as the Benchmarks page shows it (``hv@5`` -> "HV ratio after 5 trained")."""
    if name in _COLUMN_WORDS:
        return _COLUMN_WORDS[name]
    for pattern, words in _COLUMN_PATTERNS:
        found = pattern.fullmatch(name)
        if found:
            return words.format(found.group(1))
    return name

