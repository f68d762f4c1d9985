"""ORM classes, one module per aggregate. Importing this package registers every table."""

from dossier.models.job import Job, JobStatus
from dossier.models.user import Role, User

__all__ = ["Job", "JobStatus", "Role", "User"]
