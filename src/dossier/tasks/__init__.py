"""Tasks: the main resource (v1 and v2) and the tags on them."""
