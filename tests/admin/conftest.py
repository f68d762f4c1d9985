"""The admin tests enqueue jobs of the engine's test kinds."""

import tests.jobs.kinds  # noqa: F401
