"""The search tests reuse the documents fixtures (upload, ingest); users come from the root."""

from tests.documents.conftest import (  # noqa: F401
    extraction_pool,
    ingest,
    upload,
)
