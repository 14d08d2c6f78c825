"""The re-verification form as a browser submits it: every pre-filled field, the token."""

from __future__ import annotations

from datetime import date

from django.urls import reverse


def reverification_post(client, didit_user, **overrides) -> dict[str, str]:
    """GET the user page, then the form's values as a browser would send them: text as
    shown, dates as YYYY-MM-DD, a checked box as "on" (an unchecked one not at all)."""
    page = client.get(reverse("users:user-detail", args=[didit_user.vendor_data]))
    form = page.context["form"]
    data: dict[str, str] = {}
    for name, field in form.fields.items():
        value = overrides.pop(name, form.initial.get(name, field.initial))
        if value is None or value is False:
            continue
        if value is True:
            data[name] = "on"
        elif isinstance(value, date):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    data.update({name: str(value) for name, value in overrides.items()})
    return data
