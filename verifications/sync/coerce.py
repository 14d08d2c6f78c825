"""Forgiving conversions from JSON values (the wrong type gives "unknown", never an error),
and stable hashes of JSON."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, date, datetime
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

MAX_INT = 2**31 - 1


def as_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def as_int(value: Any) -> int | None:
    number = as_float(value)
    if number is None or number != int(number) or abs(number) > MAX_INT:
        return None
    return int(number)


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def as_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_date(value.strip())
        if parsed is None:
            moment = parse_datetime(value.strip())
            parsed = moment.date() if moment else None
    except ValueError:  # Well formed but impossible, like 2024-02-30.
        return None
    return parsed


def as_datetime(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 (naive means UTC) or epoch seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC) if math.isfinite(value) else None
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value.strip())
        if moment is None:
            day = parse_date(value.strip())
            moment = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def without_nul(value: Any) -> Any:
    """The same JSON without NUL characters, which PostgreSQL's text and jsonb refuse."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def strip_volatile(value: Any) -> Any:
    """The same JSON with every URL's query string dropped: presigned media URLs get a new
    signature on each fetch, which is not a change of the decision."""
    if isinstance(value, dict):
        return {str(key): strip_volatile(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strip_volatile(item) for item in value]
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value.split("?", 1)[0].split("#", 1)[0]
    return value


def digest(value: Any) -> str:
    """SHA-256 of canonical JSON: equal for equal content, whatever the key order."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
