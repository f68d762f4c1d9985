"""Errors of the users module."""

from __future__ import annotations

from dossier.core.errors import Conflict, Forbidden, NotFound


class UserNotFound(NotFound):
    code = "user_not_found"
    default_detail = "No such user."


class EmailTaken(Conflict):
    code = "email_taken"
    default_detail = "An account with this email already exists."


class LastAdmin(Conflict):
    code = "last_admin"
    default_detail = "The last active administrator cannot be demoted, deactivated or deleted."


class CannotRaiseOwnRole(Forbidden):
    code = "cannot_raise_own_role"
    default_detail = "Nobody can raise their own role."


class EmailChangeDisabled(Forbidden):
    code = "email_change_disabled"
    default_detail = "Changing your own email is turned off on this server; ask an administrator."


class CurrentPasswordIncorrect(Forbidden):
    code = "current_password_incorrect"
    default_detail = "The current password is incorrect."
