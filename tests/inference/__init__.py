"""Tests of dxval.inference; a package so helpers import relatively and unpickle in workers."""
