"""Cheap rows for tests that need one or two, not a synced sandbox (factory-boy).

``SessionFactory()`` saves one session; ``SessionFactory.build()`` makes it unsaved (for
``bulk_create``); ``AmlHitFactory(session=...)`` and ``DiditUserFactory()`` likewise. The
values are plain and valid; pass what a test is about.
"""

from __future__ import annotations

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from users.models import DiditUser
from verifications.models import AmlHit, VerificationSession


class DiditUserFactory(DjangoModelFactory):
    class Meta:
        model = DiditUser
        django_get_or_create = ("vendor_data",)

    vendor_data = factory.Sequence(lambda n: f"user-{n:05d}")


class SessionFactory(DjangoModelFactory):
    class Meta:
        model = VerificationSession

    session_id = factory.Sequence(lambda n: f"session-{n:05d}")
    status = "In Review"
    api_shape = "v3"
    decision = factory.LazyFunction(dict)
    decision_hash = "x"
    synced_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)


class AmlHitFactory(DjangoModelFactory):
    class Meta:
        model = AmlHit

    session = factory.SubFactory(SessionFactory)
    hit_id = factory.Sequence(lambda n: f"hit-{n:05d}")
    caption = factory.Sequence(lambda n: f"Listed Person {n}")
    score = 0.9
