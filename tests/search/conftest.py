"""The search tests reuse the documents fixtures (users, upload, ingest)."""

from tests.documents.conftest import (  # noqa: F401
    extraction_pool,
    ingest,
    moderator,
    other,
    owner,
    upload,
)
