"""ORM classes, one module per aggregate. Importing this package registers every table."""

from dossier.models.document import Document, DocumentChunk, DocumentStatus, DocumentType
from dossier.models.idempotency import IdempotencyRecord
from dossier.models.job import Job, JobStatus
from dossier.models.refresh_token import RefreshToken
from dossier.models.task import Priority, Tag, Task, task_tags
from dossier.models.user import Role, User

__all__ = [
    "Document",
    "DocumentChunk",
    "DocumentStatus",
    "DocumentType",
    "IdempotencyRecord",
    "Job",
    "JobStatus",
    "Priority",
    "RefreshToken",
    "Role",
    "Tag",
    "Task",
    "User",
    "task_tags",
]
