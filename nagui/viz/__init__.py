"""Figures for the app (Plotly only; nothing here imports Streamlit)."""
from .cell_graph import CellGraph, EdgeSpec, NodeSpec, cell_figure, cell_graph_data

__all__ = ["CellGraph", "EdgeSpec", "NodeSpec", "cell_figure", "cell_graph_data"]
