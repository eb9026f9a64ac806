"""Tests of dxval.evidence."""
