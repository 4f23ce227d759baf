"""Devices and CPU speed-ups behind the model.

One entry point: `ast_core.accel.prepare.prepare_for_inference` (precision, device, oneDNN
matmuls, packed and int8 linears, allocator tuning); `device.pick_device` chooses the device.
Imports nothing heavy here, so the CLI can read `PRECISIONS` without loading torch.
"""

PRECISIONS = ("auto", "fp32", "bf16", "int8")
"""auto: bf16 where the hardware has it natively, else fp32; int8: dynamic int8 linears (CPU)."""
