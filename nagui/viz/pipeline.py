"""The pipeline as a small SVG picture, each stage coloured by whether it is ready."""
from __future__ import annotations

from html import escape

STEPS = (("NB201 tables", "15,625 cells", "data"), ("Predictor", "transfer, intervals", "predictor"),
         ("Guided diffusion", "graph denoiser", "diffusion"), ("Generated cells", "near the front", "generated"),
         ("Super-network", "disableable blocks", "supernet"), ("Train once", "sandwich rule", "supernet"),
         ("Profile", "FLOPs · latency · acc", "supernet"), ("Deploy", "pick by slider", "supernet"))
READY, MISSING, INK = "#d9ead3", "#f0f2f6", "#31333f"


def pipeline_svg(ready: dict[str, bool] | None = None, width: int = 1100) -> str:
    """Boxes left to right joined by arrows; a box is green when its stage (``ready[key]``)
    is ready and grey (with "missing") when it is not; no ``ready`` draws them all plain."""
    n, gap, h = len(STEPS), 18, 64
    w = (width - gap * (n - 1)) / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h + 8}" '
             f'viewBox="0 0 {width} {h + 8}" font-family="sans-serif">',
             '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
             f'<path d="M0,0 L8,4 L0,8 z" fill="{INK}"/></marker></defs>']
    for i, (title, sub, key) in enumerate(STEPS):
        x = i * (w + gap)
        ok = None if ready is None else ready.get(key, False)
        fill = READY if ok else MISSING
        dash = "" if ok in (None, True) else ' stroke-dasharray="4 3"'
        parts.append(f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="{h}" rx="8" fill="{fill}" stroke="{INK}"'
                     f' stroke-width="1"{dash}/>')
        parts.append(f'<text x="{x + w / 2:.1f}" y="30" text-anchor="middle" font-size="13" font-weight="600" '
                     f'fill="{INK}">{escape(title)}</text>')
        note = sub if ok is not False else f"{sub} · missing"
        parts.append(f'<text x="{x + w / 2:.1f}" y="50" text-anchor="middle" font-size="10.5" fill="{INK}">'
                     f'{escape(note)}</text>')
        if i < n - 1:
            parts.append(f'<line x1="{x + w + 1:.1f}" y1="{4 + h / 2}" x2="{x + w + gap - 2:.1f}" y2="{4 + h / 2}" '
                         f'stroke="{INK}" stroke-width="1.5" marker-end="url(#a)"/>')
    parts.append("</svg>")
    return "".join(parts)
