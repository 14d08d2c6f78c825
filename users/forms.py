"""Forms of the user page."""

from __future__ import annotations

import re

from django import forms

PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,30}$")
COUNTRY_RE = re.compile(r"^[A-Za-z]{2,3}$")
# Didit's expected_details keys, in the form's order.
EXPECTED_FIELDS = ("first_name", "last_name", "date_of_birth", "identification_number")
EXPECTED_FIELDS += ("nationality", "id_country")


class ReverificationForm(forms.Form):
    """Which verification to run again: a workflow (API v2/v3) or features (API v1), what
    Didit should expect to find (pre-filled from the latest approved session, each value
    editable) and how to reach the person. A one-time token makes a second submission of
    the same form (a reload, a double click) create nothing.
    """

    workflow_id = forms.CharField(max_length=64, required=False, strip=True)
    features = forms.CharField(max_length=100, required=False, strip=True)
    first_name = forms.CharField(max_length=255, required=False, strip=True)
    last_name = forms.CharField(max_length=255, required=False, strip=True)
    date_of_birth = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    identification_number = forms.CharField(
        label="Document number", max_length=100, required=False, strip=True
    )
    nationality = forms.CharField(max_length=3, required=False, strip=True)
    id_country = forms.CharField(label="Document country", max_length=3, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=32, required=False, strip=True)
    send_notification_emails = forms.BooleanField(
        label="Let Didit e-mail the person the link", required=False
    )
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=500)

    def __init__(self, *args, api_version: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.api_version = api_version

    def _country(self, name: str) -> str:
        value = self.cleaned_data[name].strip().upper()
        if value and not COUNTRY_RE.match(value):
            raise forms.ValidationError("Write a country code, e.g. ESP.")
        return value

    def clean_nationality(self) -> str:
        return self._country("nationality")

    def clean_id_country(self) -> str:
        return self._country("id_country")

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"]
        if value and not PHONE_RE.match(value):
            raise forms.ValidationError("Write a phone number with its country code, e.g. +34…")
        # Didit wants E.164: the digits, with the "+" the person wrote.
        digits = "".join(ch for ch in value if ch.isdigit())
        return f"+{digits}" if value.startswith("+") else digits

    def clean(self) -> dict:
        data = super().clean()
        if self.api_version == "v1":
            if not data.get("features"):
                self.add_error("features", "Choose the features to verify, e.g. OCR + FACE.")
        elif not data.get("workflow_id"):
            self.add_error("workflow_id", "Choose the workflow to run.")
        if data.get("send_notification_emails") and not data.get("email"):
            self.add_error("email", "Didit needs an e-mail address to send the link.")
        return data

    def expected_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in EXPECTED_FIELDS]

    def expected_details(self) -> dict[str, str]:
        """Didit's ``expected_details``: the values filled in, dates as YYYY-MM-DD."""
        data = self.cleaned_data
        details = {name: data[name] for name in EXPECTED_FIELDS if data.get(name)}
        if data.get("date_of_birth"):
            details["date_of_birth"] = data["date_of_birth"].isoformat()
        return details

    def contact_details(self) -> dict[str, object]:
        """Didit's ``contact_details``, or {} when neither e-mail nor phone is known."""
        data = self.cleaned_data
        contact: dict[str, object] = {}
        if data.get("email"):
            contact["email"] = data["email"]
            contact["send_notification_emails"] = bool(data.get("send_notification_emails"))
        if data.get("phone"):
            contact["phone"] = data["phone"]
        return contact


class TwoFactorCodeForm(forms.Form):
    """The second step of signing in: a 6-digit code from the app, or a recovery code."""

    code = forms.CharField(
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )
