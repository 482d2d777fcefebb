"""Torch modules: the NB201 network and its parts."""
from ..space import NetConfig
from .nb201_net import NB201Network, build_network

__all__ = ["NB201Network", "NetConfig", "build_network"]
