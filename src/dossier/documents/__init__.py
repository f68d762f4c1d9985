"""Documents: upload, storage, background ingestion (extract → chunk → index)."""
