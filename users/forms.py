"""Forms of the user page."""

from __future__ import annotations

from django import forms


class ReverificationForm(forms.Form):
    """Which verification to run again: a workflow (API v2/v3) or features (API v1).

    Free text, with the values seen in the person's earlier sessions offered as suggestions.
    """

    workflow_id = forms.CharField(max_length=64, required=False, strip=True)
    features = forms.CharField(max_length=100, required=False, strip=True)

    def __init__(self, *args, api_version: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.api_version = api_version

    def clean(self) -> dict:
        data = super().clean()
        if self.api_version == "v1":
            if not data.get("features"):
                self.add_error("features", "Choose the features to verify, e.g. OCR + FACE.")
        elif not data.get("workflow_id"):
            self.add_error("workflow_id", "Choose the workflow to run.")
        return data


class TwoFactorCodeForm(forms.Form):
    """The second step of signing in: a 6-digit code from the app, or a recovery code."""

    code = forms.CharField(
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )
