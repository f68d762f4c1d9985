"""ORM classes, one module per aggregate. Importing this package registers every table."""

from dossier.models.idempotency import IdempotencyRecord
from dossier.models.job import Job, JobStatus
from dossier.models.user import Role, User

__all__ = ["IdempotencyRecord", "Job", "JobStatus", "Role", "User"]
