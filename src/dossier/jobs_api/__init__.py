"""The jobs API: read, follow (SSE), retry and cancel background jobs."""
