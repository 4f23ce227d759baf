"""`ast-studio bench`: speed and memory, ours against transformers' AST on the same weights.

One module per section: `cpu_inference` (the default: model ms per clip, folder clips/s, the
matmul floor), `gpu_inference` (--gpu), `long_file` (--long: an hour of audio, time and peak
memory), `live_latency` (--live), `app_startup` (--startup), `training_speed` (--train); what
they share is in `common`. The CLI (`app.cli.bench`) picks the sections and prints the report.

The only code outside the tests that imports `transformers` (an import-linter contract).
"""
