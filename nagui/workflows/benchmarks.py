"""Where the app finds search-benchmark results (`nagui bench search --out DIR`)."""
from __future__ import annotations

import csv
from pathlib import Path

from ..runs import RunStore


def search_result_dirs(store: RunStore) -> list[Path]:
    """Folders holding a ``summary.csv`` from the search benchmark: ``<runs>/search-bench/*``
    and ``bench-search/`` in the checkout (the command's default --out)."""
    from ..data.sources import REPO_ROOT

    found = [p.parent for p in sorted((store.root / "search-bench").glob("*/summary.csv"))]
    default = REPO_ROOT / "bench-search" / "summary.csv"
    if default.is_file():
        found.append(default.parent)
    return found


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
    "sections"}}``, newest first."""
    out = {}
    for folder in search_result_dirs(store):
        summary = folder / "summary.csv"
        try:
            with open(summary, newline="") as f:
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
        out[str(folder)] = {"modified": summary.stat().st_mtime, "tables": tables, "curves": curves,
                            "markdown": markdown, "sections": markdown_sections(markdown)}
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["modified"]))
