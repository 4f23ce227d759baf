"""The desktop window (PySide6 + pyqtgraph).

The frame, menus, settings and workers live here; the product areas are subpackages.
"""
