"""Full-text search over document chunks (SQLite FTS5 or PostgreSQL tsvector)."""
