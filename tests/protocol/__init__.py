"""Tests of dxval.protocol."""
