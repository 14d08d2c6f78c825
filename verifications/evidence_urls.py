"""The evidence archive's URLs: ``/evidence/<sha256>/`` and ``/evidence-packs/...``."""

from __future__ import annotations

from django.urls import path, re_path

from .views import evidence

urlpatterns = [
    re_path(r"^evidence/(?P<sha256>[0-9a-f]{64})/$", evidence.evidence_file, name="evidence-file"),
    path("evidence-packs/", evidence.pack_create, name="evidence-pack-create"),
    path("evidence-packs/<uuid:pack_id>/", evidence.pack_detail, name="evidence-pack-detail"),
    path(
        "evidence-packs/<uuid:pack_id>/<str:filename>",
        evidence.pack_download,
        name="evidence-pack-download",
    ),
]
