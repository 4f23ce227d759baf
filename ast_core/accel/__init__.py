"""Devices and CPU speed-ups behind the model.

Device choice, oneDNN matmuls, packed and int8 linears, CPU attention, allocator tuning.
"""
