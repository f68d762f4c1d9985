"""Shared kit with no domain knowledge."""
