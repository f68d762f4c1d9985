"""The jobs API tests use the engine's test kinds."""

import tests.jobs.kinds  # noqa: F401
