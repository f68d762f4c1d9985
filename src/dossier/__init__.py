"""Dossier: a self-hostable work API for teams."""

__version__ = "0.1.0"
