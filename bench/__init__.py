"""`ast-studio bench`: speed and memory against transformers' AST.

The only code outside the tests that imports `transformers` (an import-linter contract).
"""
