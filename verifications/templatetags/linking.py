"""``{% load linking %}``: the linked-identities panel's data, for the session page's include.

A tag rather than a view variable so the panel is one ``{% include %}`` line in the session
page, whatever that page's view looks like; the data comes from ``linking.linked_identities``.
"""

from __future__ import annotations

from django import template

from ..linking import LinkedPerson, linked_identities

register = template.Library()


@register.simple_tag
def linked_people_of(session) -> list[LinkedPerson]:
    return linked_identities(session=session)
