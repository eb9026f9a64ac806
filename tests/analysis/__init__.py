"""Tests of dxval.analysis."""
