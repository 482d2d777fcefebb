"""The NB201 search space: cells, their representations and canonical form."""
from .canonical import functional_key, is_output_connected, iso_key, live_edges, prune
from .macro import Cost, NetConfig, analytic_cost, table_cost
from .nb201 import (ADJACENCY, EDGES, NASLIB_EDGES, NASLIB_OPS, NODE_TYPES, OPS, Arch,
                    InvalidArchError)

__all__ = ["ADJACENCY", "EDGES", "NASLIB_EDGES", "NASLIB_OPS", "NODE_TYPES", "OPS", "Arch", "Cost",
           "InvalidArchError", "NetConfig", "analytic_cost", "functional_key", "is_output_connected", "iso_key",
           "live_edges", "prune", "table_cost"]
