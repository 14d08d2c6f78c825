from django.apps import AppConfig
from django.db.models.signals import post_migrate


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Verified users"

    def ready(self) -> None:
        from .roles import grant_role_permissions

        # After django.contrib.auth's own receiver (its app is ready first) has created the
        # permissions of a new model: the roles get them in the same migrate.
        post_migrate.connect(grant_role_permissions, dispatch_uid="users.grant_role_permissions")
