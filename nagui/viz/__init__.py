"""Figures for the app (Plotly charts and SVG diagrams; nothing here imports Streamlit)."""
from .cell_graph import CellGraph, EdgeSpec, NodeSpec, cell_graph_data
from .diagram_svg import cell_svg, macro_svg, supercell_svg
from .pareto_plot import (OBJECTIVE_COLORS, axis_label, direction_hint, focus_range, front_frame, maximise,
                          objective_color, objective_kind, search_space_scatter, subnet_scatter)
from .supernet_graph import MacroBlock, MacroLayout, SuperCellGraph, SuperEdgeSpec, macro_layout, supercell_graph_data

__all__ = ["OBJECTIVE_COLORS", "CellGraph", "EdgeSpec", "MacroBlock", "MacroLayout", "NodeSpec", "SuperCellGraph",
           "SuperEdgeSpec", "axis_label", "cell_graph_data", "cell_svg", "direction_hint", "focus_range", "front_frame",
           "macro_layout", "macro_svg", "maximise", "objective_color", "objective_kind", "search_space_scatter",
           "subnet_scatter", "supercell_graph_data", "supercell_svg"]
