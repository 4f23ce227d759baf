"""Test helpers: model factories, audio corpora, GUI drivers."""
