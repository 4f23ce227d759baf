"""AST Studio's front ends: `app.cli` (the `ast-studio` commands) and `app.gui` (the window).

`ast-studio` is `app.__main__:main`. See ARCHITECTURE.md at the repo root for the layout.
"""
