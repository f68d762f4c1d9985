"""ORM classes, one module per aggregate. Importing this package registers every table."""

from dossier.models.user import Role, User

__all__ = ["Role", "User"]
