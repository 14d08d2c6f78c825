"""UsedFormToken: the one-time tokens of forms that write, once they have been used."""

from __future__ import annotations

from django.db import models


class UsedFormToken(models.Model):
    """A form's one-time token, inserted when the form is submitted. The unique constraint
    makes a second submission of the same form fail to insert, which is how we spot it
    (on SQLite and PostgreSQL alike, with no cache). Tokens are signed and expire, so rows
    older than a token's lifetime can be deleted."""

    token = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token.")
    used_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.token[:12]}… used {self.used_at:%Y-%m-%d %H:%M}"
