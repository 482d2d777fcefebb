"""nagui: multi-objective, diffusion-guided neural architecture search on NAS-Bench-201."""
__version__ = "0.1.0"
