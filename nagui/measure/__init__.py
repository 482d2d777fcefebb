"""Measuring networks: FLOPs/params (thop), latency (onnxruntime, eager), memory."""
