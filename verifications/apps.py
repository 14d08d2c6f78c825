from django.apps import AppConfig


class VerificationsConfig(AppConfig):
    name = "verifications"
    verbose_name = "Verifications"

    def ready(self) -> None:
        # Connects the receiver that archives a decision's media once it is stored.
        from . import tasks  # noqa: F401
