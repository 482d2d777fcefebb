"""Torch modules: the NB201 network and its parts."""
from .nb201_net import NB201Network, NetConfig, build_network

__all__ = ["NB201Network", "NetConfig", "build_network"]
