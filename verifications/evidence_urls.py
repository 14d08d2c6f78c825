"""The evidence archive's URLs: ``/evidence/<sha256>/`` and ``/evidence-packs/...``."""

from __future__ import annotations

from django.urls import path, register_converter

from .views import evidence


class Sha256Converter:
    """64 lowercase hex digits: the name of an archived file."""

    regex = "[0-9a-f]{64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(Sha256Converter, "sha256")

urlpatterns = [
    path("evidence/<sha256:sha256>/", evidence.evidence_file, name="evidence-file"),
    path("evidence-packs/", evidence.pack_create, name="evidence-pack-create"),
    path("evidence-packs/<uuid:pack_id>/", evidence.pack_detail, name="evidence-pack-detail"),
    path(
        "evidence-packs/<uuid:pack_id>/<str:filename>",
        evidence.pack_download,
        name="evidence-pack-download",
    ),
]
