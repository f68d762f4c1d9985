"""Errors the task service raises (each carries its status and stable code)."""

from __future__ import annotations

from dossier.core.errors import Forbidden, NotFound, PreconditionFailed, UnprocessableContent


class TaskNotFound(NotFound):
    code = "task_not_found"
    default_detail = "No such task."


class UserNotFound(NotFound):
    code = "user_not_found"
    default_detail = "No such user."


class TaskEditForbidden(Forbidden):
    code = "task_edit_forbidden"
    default_detail = "Only the task's owner or an admin may change or delete it."


class TaskCompleteForbidden(Forbidden):
    code = "task_complete_forbidden"
    default_detail = "Only the task's owner, its assignee or an admin may complete it."


class InvalidAssignee(UnprocessableContent):
    code = "invalid_assignee"
    default_detail = "The assignee must be an existing, active user."


class TaskChanged(PreconditionFailed):
    code = "precondition_failed"
    default_detail = "The task changed while you were writing it; fetch it again and retry."
