"""Database plumbing: engine, unit of work, declarative base."""

from dossier.db.base import Base, TimestampMixin, UTCDateTime, utcnow
from dossier.db.engine import Database, create_database

__all__ = ["Base", "Database", "TimestampMixin", "UTCDateTime", "create_database", "utcnow"]
