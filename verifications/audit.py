"""Recording audit entries: one call per reviewer action, from services and views."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .models import AuditAction, AuditEntry


def record(
    request: HttpRequest | None,
    *,
    action: AuditAction | str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any] | None = None,
    actor=None,
) -> AuditEntry:
    """Write one audit entry; the actor and IP come from the request when there is one."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEntry.objects.create(
        actor=actor,
        actor_username=getattr(actor, "username", "") or "",
        action=str(action),
        object_type=object_type,
        object_id=str(object_id),
        ip_address=client_ip(request) if request is not None else None,
        detail=detail or {},
    )


def client_ip(request: HttpRequest) -> str | None:
    """The peer address; behind a reverse proxy listed in ``TRUSTED_PROXIES``, the address that
    proxy saw (the last entry of X-Forwarded-For, which it appends). No other header counts:
    a client can write anything into X-Forwarded-For, only the last hop is the proxy's."""
    peer = request.META.get("REMOTE_ADDR") or None
    if peer is None or peer not in settings.TRUSTED_PROXIES:
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(forwarded))
    except ValueError:
        return peer
