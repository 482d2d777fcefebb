"""The NB201 search space: cells, their representations and canonical form."""
from .canonical import functional_key, is_output_connected, iso_key, live_edges, prune
from .flat import NUM_CONFIGS, NUM_EDGES, NUM_OPS, all_op_indices, flat_index
from .macro import Cost, NetConfig, analytic_cost, table_cost
from .nb201 import (ADJACENCY, EDGES, NASLIB_EDGES, NASLIB_OPS, NODE_TYPES, OPS, Arch,
                    InvalidArchError)

__all__ = ["ADJACENCY", "EDGES", "NASLIB_EDGES", "NASLIB_OPS", "NODE_TYPES", "NUM_CONFIGS", "NUM_EDGES", "NUM_OPS",
           "OPS", "Arch", "Cost", "InvalidArchError", "NetConfig", "all_op_indices", "analytic_cost", "flat_index",
           "functional_key", "is_output_connected", "iso_key", "live_edges", "prune", "table_cost"]
