"""Helpers for the trust tests: a small synced sandbox world, and every URL of the project.

``sandbox_world`` syncs a few sandbox sessions into the test database and points the settings
at that sandbox, so a permitted write that reaches Didit lands on loopback, never the network.
``project_urls`` walks the URLconf, so a view added tomorrow is in the access matrix today.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from tests.sandbox import fast_client, point_settings_at
from verifications.models import AmlHit
from verifications.sync import sync_sessions

# Statuses Didit produces a PDF for and lets a reviewer move a session away from.
REPORTABLE = ("Approved", "Declined", "In Review", "Kyc Expired")


@dataclass(frozen=True)
class World:
    server: object
    session_id: str  # a synced session with AML hits, reportable, owned by a DiditUser
    hit_pk: int
    vendor_data: str


def sandbox_world(factory, settings, *, sessions: int = 30, seed: int = 1) -> World:
    """Start a sandbox, sync it whole, and pick the objects the URLs need."""
    server = factory(sessions=sessions, seed=seed)
    point_settings_at(server, settings)
    sync_sessions(fast_client(server), full=True)
    return world_of(server)


def world_of(server) -> World:
    """The objects the URLs need, from a sandbox already synced (``synced_sandbox``)."""
    hit = (
        AmlHit.objects.filter(session__status__in=REPORTABLE, session__user__isnull=False)
        .select_related("session__user")
        .order_by("session__session_id", "pk")
        .first()
    )
    assert hit is not None, "the sandbox world needs a reportable session with AML hits"
    return World(
        server=server,
        session_id=hit.session.session_id,
        hit_pk=hit.pk,
        vendor_data=hit.session.user.vendor_data,
    )


@dataclass(frozen=True)
class ProjectUrl:
    name: str  # "namespace:name", or "namespace:?route" for an unnamed pattern
    namespace: str
    route: str
    pattern: URLPattern

    @property
    def named(self) -> bool:
        return self.pattern.name is not None


def project_urls() -> list[ProjectUrl]:
    return list(_walk(get_resolver().url_patterns, prefix="", namespace=""))


def _walk(patterns, *, prefix: str, namespace: str) -> Iterator[ProjectUrl]:
    for entry in patterns:
        route = prefix + _route(entry)
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from _walk(entry.url_patterns, prefix=route, namespace=inner)
        else:
            local = entry.name or f"?{route}"
            name = f"{namespace}:{local}" if namespace else local
            yield ProjectUrl(name=name, namespace=namespace, route=route, pattern=entry)


def _route(entry: URLPattern | URLResolver) -> str:
    text = str(entry.pattern)
    if isinstance(entry.pattern, RegexPattern):
        text = text.removeprefix("^").removesuffix("$")
    return text


ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def concrete_path(url: ProjectUrl, values: dict[str, object]) -> str:
    """The route with each parameter filled from ``values`` (a KeyError names a new one)."""
    path = ROUTE_PARAMETER.sub(lambda match: str(values[match["name"]]), url.route)
    path = REGEX_GROUP.sub(lambda match: str(values[match["name"]]), path)
    return "/" + path.replace("^", "").replace("$", "")
