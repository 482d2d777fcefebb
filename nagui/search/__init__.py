"""Search strategies against the NB201 table on a budget of trained architectures."""
