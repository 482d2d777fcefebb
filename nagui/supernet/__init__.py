"""The super-network workflow: train it once, profile its sub-networks, pick one, export it."""
