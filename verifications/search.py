"""The session search of the queue and the admin: one text, every identifier, by index.

At 100k+ sessions a search must not read the session table (decision JSON included): each
term of the OR below is one an index serves, on PostgreSQL (migration 0006) and on SQLite
(migration 0007).
"""

from __future__ import annotations

from django.db.models import Q
from django.db.models.expressions import RawSQL


def session_search(text: str, vendor: str) -> Q:
    """Sessions whose id, document number or vendor data start with ``text``, or whose name
    holds it anywhere; on ``vendor``'s database every term is served by an index."""
    if vendor == "sqlite":
        return _sqlite_search(text)
    # PostgreSQL: LIKE 'x%' served by varchar_pattern_ops indexes and UPPER(name) LIKE by a
    # trigram index (migration 0006). LIKE is case-sensitive there: ids are stored lowercase,
    # document numbers as issued (usually uppercase).
    return (
        Q(session_id__startswith=text.lower())
        | Q(document_number__startswith=text)
        | Q(document_number__startswith=text.upper())
        | Q(vendor_data__startswith=text)
        | Q(full_name__icontains=text)
    )


# SQLite compares text by code point: a prefix is the range [text, text + the last one).
LAST_CHARACTER = "\U0010ffff"
# The trigram full-text table of migration 0007; the search text is always a parameter.
NAME_SEARCH_SQL = "SELECT rowid FROM verifications_session_name_search WHERE full_name LIKE %s"
LIKE_WILDCARDS = ("%", "_", "\\")


def _sqlite_search(text: str) -> Q:
    """The same matches on SQLite, with every term served by an index.

    One term no index serves turns the whole OR into a scan of the session table, decision
    JSON included. SQLite's ``startswith`` is a case-insensitive LIKE that its indexes don't
    serve, so prefixes are ranges (case-sensitive, as on PostgreSQL); names go through the
    trigram full-text index, which answers LIKE for three characters or more (fewer, or a
    LIKE wildcard in the text, needs the plain, escaped LIKE).
    """
    prefixes = {
        ("session_id", text.lower()),
        ("document_number", text),
        ("document_number", text.upper()),
        ("vendor_data", text),
    }
    found = Q()
    for field, prefix in sorted(prefixes):
        found |= Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + LAST_CHARACTER})
    if len(text) >= 3 and not any(wildcard in text for wildcard in LIKE_WILDCARDS):
        names = RawSQL(NAME_SEARCH_SQL, [f"%{text}%"])  # noqa: S611 (constant SQL)
        return found | Q(pk__in=names)
    return found | Q(full_name__icontains=text)
