"""Tests of dxval.data (named dataset: tests/data holds data files)."""
