"""CPU speed-ups behind the model.

oneDNN matmuls, packed and int8 linears, CPU attention, allocator tuning.
"""
