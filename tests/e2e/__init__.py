"""End-to-end tests of the validate, lock, verify and schema commands."""
