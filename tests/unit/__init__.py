"""Fast tests of the Qt-free core and trainer."""
