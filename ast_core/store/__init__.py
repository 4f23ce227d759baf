"""What lives on disk: the model store, label lists (package data), atomic writes."""
