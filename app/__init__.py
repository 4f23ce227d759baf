"""AST Studio desktop app (Qt). `ast-studio` is `app.__main__:main`."""
