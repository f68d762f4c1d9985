"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a large share of throughput)."""
