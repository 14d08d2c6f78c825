"""Search in every script, case and accents optional, on SQLite and PostgreSQL alike, and
still served by the name's index (the normalised ``search_name``, migration 0015)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import QueryDict

from tests.sandbox import session_row
from verifications.forms import QueueFilterForm
from verifications.models import VerificationSession
from verifications.search import normalise

pytestmark = pytest.mark.django_db

PEOPLE = {
    "p-es": "José Muñoz Álvarez",
    "p-ru": "Сергей Иванович Петров",
    "p-pl": "Łukasz Żółkiewski",
    "p-de": "Jürgen Groß",
    "p-gr": "Νίκος Παπαδόπουλος",
    "p-en": "John Smith",
}


@pytest.fixture
def people():
    VerificationSession.objects.bulk_create(
        [session_row(session_id, full_name=name) for session_id, name in PEOPLE.items()]
    )


def search(text: str) -> set[str]:
    data = QueryDict(mutable=True)
    data["q"] = text
    form = QueueFilterForm(data)
    assert form.is_valid(), form.errors
    return set(form.filter(VerificationSession.objects.all()).values_list("session_id", flat=True))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Munoz", "p-es"),
        ("muñoz", "p-es"),
        ("MUÑOZ", "p-es"),
        ("alvarez", "p-es"),
        ("сергей", "p-ru"),
        ("СЕРГЕЙ", "p-ru"),
        ("Сергей", "p-ru"),
        ("петров", "p-ru"),
        ("łukasz", "p-pl"),
        ("ŁUKASZ", "p-pl"),
        ("Lukasz", "p-pl"),
        ("zolkiewski", "p-pl"),
        ("GROSS", "p-de"),
        ("jurgen", "p-de"),
        ("νικος", "p-gr"),
        ("ΠΑΠΑΔΟΠΟΥΛΟΣ", "p-gr"),
        ("smith", "p-en"),
    ],
)
def test_names_are_found_in_any_script_case_and_accents_optional(people, text, found):
    assert search(text) == {found}


def test_short_texts_are_normalised_too(people):
    assert search("ŻÓ") == {"p-pl"}  # Under three characters: no trigram, still a match.


def test_the_normalised_name_follows_saves_bulk_writes_and_updates(people):
    session = VerificationSession.objects.get(session_id="p-en")
    session.full_name = "Ñandú Pérez"
    session.save(update_fields=["full_name"])
    assert search("nandu") == {"p-en"}
    VerificationSession.objects.filter(session_id="p-en").update(full_name="Zoë Öztürk")
    assert search("ozturk") == {"p-en"}
    assert search("perez") == set()
    session.refresh_from_db()
    session.full_name = "Ægir Þórsson"
    VerificationSession.objects.bulk_update([session], ["full_name"])
    assert search("thorsson") == {"p-en"}


def test_normalise_casefolds_and_strips_accents():
    assert normalise("Muñoz ŁUKASZ Straße Сергей") == "munoz lukasz strasse сергеи"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plan")
@pytest.mark.parametrize("text", ["Munoz", "сергей"])
def test_on_postgresql_the_name_search_uses_the_trigram_index(people, text):
    data = QueryDict(mutable=True)
    data["q"] = text
    form = QueueFilterForm(data)
    assert form.is_valid()
    # A handful of rows: the planner would rather walk the order's index; without an order
    # and with scans off, the plan shows which index serves each term.
    rows = form.filter(VerificationSession.objects.all()).order_by().values("id")
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "session_search_name_trgm" in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
@pytest.mark.parametrize("text", ["Munoz", "сергей"])
def test_on_sqlite_the_name_search_never_scans_the_session_table(people, text):
    data = QueryDict(mutable=True)
    data["q"] = text
    form = QueueFilterForm(data)
    assert form.is_valid()
    rows = form.filter(VerificationSession.objects.all()).order_by("-created_at", "-id")[:51]
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
    assert "SCAN verifications_verificationsession" not in plan, plan
