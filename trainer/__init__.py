"""Fine-tuning the AST on labelled folders (no Qt)."""
