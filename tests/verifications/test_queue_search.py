"""The queue's search: the same matches on SQLite and PostgreSQL, and served by indexes.

On SQLite the name goes through a trigram full-text table kept in step by triggers
(migration 0007); these tests hold it to what the rows say after inserts, renames, deletes,
bulk writes and ``update()``.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import QueryDict

from tests.sandbox import session_row
from verifications.forms import QueueFilterForm
from verifications.models import VerificationSession

pytestmark = pytest.mark.django_db


def make(session_id: str, **fields) -> VerificationSession:
    session = session_row(session_id, **fields)
    session.save()
    return session


def query(text: str) -> QueryDict:
    data = QueryDict(mutable=True)
    data["q"] = text
    return data


def search(text: str) -> set[str]:
    form = QueueFilterForm(query(text))
    assert form.is_valid(), form.errors
    return set(form.filter(VerificationSession.objects.all()).values_list("session_id", flat=True))


def test_names_match_anywhere_in_any_case_ids_by_prefix():
    make("a1b2c3d4-0001", full_name="María Fernández López", document_number="X1234567")
    make("ffee0000-0002", full_name="John Smith", vendor_data="customer-42")
    make("00aa0000-0003", full_name="Smithson Ltd", document_number="ab999")

    assert search("fernández") == {"a1b2c3d4-0001"}
    assert search("SMITH") == {"ffee0000-0002", "00aa0000-0003"}
    assert search("ith") == {"ffee0000-0002", "00aa0000-0003"}
    assert search("A1B2") == {"a1b2c3d4-0001"}  # session ids are lowercase: any case finds them
    assert search("x123") == {"a1b2c3d4-0001"}  # document numbers: as typed or uppercased
    assert search("customer-4") == {"ffee0000-0002"}
    assert search("1234567") == set()  # identifiers match by prefix only
    assert search("omer-42") == set()


def test_short_texts_and_like_wildcards_are_literal():
    make("s-1", full_name="Li Na")
    make("s-2", full_name="100% Real_Name")
    make("s-3", full_name="Plain Name")

    assert search("Li") == {"s-1"}  # under three characters: no trigram to look up
    assert search("%") == {"s-2"}
    assert search("0% R") == {"s-2"}
    assert search("l_N") == {"s-2"}
    assert search("Real_") == {"s-2"}


def test_the_name_index_follows_every_kind_of_write():
    renamed = make("w-1", full_name="Old Surname")
    make("w-2", full_name="Doomed Person")
    renamed.full_name = "New Surname"
    renamed.save()
    VerificationSession.objects.filter(session_id="w-2").delete()
    VerificationSession.objects.bulk_create(
        [session_row(f"bulk-{i}", full_name=f"Bulkloaded {i}") for i in range(3)]
    )
    VerificationSession.objects.filter(session_id="bulk-0").update(full_name="Updated Inplace")

    assert search("Old Surname") == set()
    assert search("New Surname") == {"w-1"}
    assert search("Doomed") == set()
    assert search("Bulkloaded") == {"bulk-1", "bulk-2"}
    assert search("Inplace") == {"bulk-0"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
@pytest.mark.parametrize("text", ["Fernández", "X1234567", "a1b2c3d4"])
def test_on_sqlite_the_search_never_scans_the_session_table(text):
    make("a1b2c3d4-0001", full_name="María Fernández López", document_number="X1234567")
    form = QueueFilterForm(query(text))
    assert form.is_valid()
    rows = form.filter(VerificationSession.objects.all()).order_by("-created_at", "-id")[:51]
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())

    assert "MULTI-INDEX OR" in plan, plan
    assert "SCAN verifications_verificationsession" not in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers")
def test_on_sqlite_the_triggers_that_keep_the_name_index_exist():
    # A later migration that makes Django rebuild the session table (SQLite's way to alter
    # a table) drops its triggers: this fails then, and that migration must recreate them.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [VerificationSession._meta.db_table],
        )
        triggers = {name for (name,) in cursor.fetchall()}
    assert triggers == {
        "verifications_session_name_search_insert",
        "verifications_session_name_search_update",
        "verifications_session_name_search_delete",
    }
