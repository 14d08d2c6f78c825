"""The session search of the queue and the admin: one text, every identifier, by index.

At 100k+ sessions a search must not read the session table (decision JSON included): each
term of the OR below is one an index serves, on PostgreSQL and on SQLite (migrations 0006,
0007 and 0015).

Names are searched in any script with case and accents optional: the name is stored
normalised (``search_name``: casefolded, accents stripped, written with the row) and the
search text is normalised the same way, so ``munoz`` finds ``Muñoz`` and ``сергей`` finds
``Сергей`` on both databases, whatever their collation.
"""

from __future__ import annotations

import unicodedata

from django.db.models import Q
from django.db.models.expressions import RawSQL

# Letters that carry their "accent" in the letter itself (no Unicode decomposition), as a
# reader expects them to match without it: ``Lukasz`` finds ``Łukasz``.
UNDECOMPOSED = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "ŀ": "l", "ŧ": "t", "ð": "d", "þ": "th"}
)


def normalise(text: str) -> str:
    """``text`` casefolded and without accents (combining marks), for search on any script:
    ``"Muñoz Łukasz СЕРГЕЙ"`` -> ``"munoz lukasz сергеи"``."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(char for char in folded if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", stripped.translate(UNDECOMPOSED))


def session_search(text: str, vendor: str) -> Q:
    """Sessions whose id, document number or vendor data start with ``text``, or whose name
    holds it anywhere (case and accents optional); on ``vendor``'s database every term is
    served by an index."""
    if vendor == "sqlite":
        return _sqlite_search(text)
    # PostgreSQL: LIKE 'x%' served by varchar_pattern_ops indexes (0006) and the normalised
    # name's LIKE '%x%' by a trigram index (0015). LIKE is case-sensitive there: ids are
    # stored lowercase, document numbers as issued (usually uppercase).
    return (
        Q(session_id__startswith=text.lower())
        | Q(document_number__startswith=text)
        | Q(document_number__startswith=text.upper())
        | Q(vendor_data__startswith=text)
        | Q(search_name__contains=normalise(text))
    )


# SQLite compares text by code point: a prefix is the range [text, text + the last one).
LAST_CHARACTER = "\U0010ffff"
# The trigram full-text table of migration 0015 (over the normalised name); the search text is
# always a parameter.
NAME_SEARCH_SQL = "SELECT rowid FROM verifications_session_name_search WHERE search_name LIKE %s"
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
    name = normalise(text)
    if len(name) >= 3 and not any(wildcard in name for wildcard in LIKE_WILDCARDS):
        names = RawSQL(NAME_SEARCH_SQL, [f"%{name}%"])  # noqa: S611 (constant SQL)
        return found | Q(pk__in=names)
    return found | Q(search_name__contains=name)
