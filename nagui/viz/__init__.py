"""Figures for the app (Plotly only; nothing here imports Streamlit)."""
from .cell_graph import CellGraph, EdgeSpec, NodeSpec, cell_figure, cell_graph_data
from .pareto_plot import (OBJECTIVE_COLORS, axis_label, direction_hint, focus_range, front_frame, maximise,
                          objective_color, objective_kind, search_space_scatter, subnet_scatter)
from .supernet_graph import (MacroBlock, MacroLayout, SuperCellGraph, SuperEdgeSpec, macro_figure, macro_layout,
                             supercell_figure, supercell_graph_data)

__all__ = ["OBJECTIVE_COLORS", "CellGraph", "EdgeSpec", "MacroBlock", "MacroLayout", "NodeSpec", "SuperCellGraph",
           "SuperEdgeSpec", "axis_label", "cell_figure", "cell_graph_data", "direction_hint", "focus_range", "macro_figure",
           "macro_layout", "maximise", "objective_color", "objective_kind", "search_space_scatter", "subnet_scatter",
           "supercell_figure", "supercell_graph_data", "front_frame"]
