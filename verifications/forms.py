"""The console's forms: the queue's filters, Approve/Decline and AML-hit dispositions."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from django import forms
from django.db import connections
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from users.history import FLAG_LABELS, flag_filter

from . import workflow as workflow_filters
from .models import Disposition, SessionStatus
from .search import session_search
from .sync.parse import MAX_VENDOR_DATA

COMMENT_MAX_LENGTH = 10_000
SEARCH_MAX_LENGTH = 200
# Offset pagination is fine for the pages a person clicks through; deeper is a search.
MAX_PAGE = 10_000
FEATURE_RE = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_]{0,63}):(?P<status>[A-Za-z][A-Za-z ]{0,31})$"
)


class QueueFilterForm(forms.Form):
    """The queue's filters, all from the URL's query string; every field is optional."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, document number, vendor data, session id",
            }
        ),
    )
    status = forms.MultipleChoiceField(
        choices=SessionStatus.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 1}),
    )
    aml = forms.ChoiceField(
        label="AML hits",
        choices=[("", "Any"), ("yes", "With hits"), ("no", "Without hits")],
        required=False,
    )
    aml_min = forms.FloatField(label="AML score from", required=False, min_value=0, max_value=100)
    aml_max = forms.FloatField(label="to", required=False, min_value=0, max_value=100)
    document_type = forms.CharField(label="Document type", required=False, max_length=100)
    country = forms.CharField(
        label="Issuing country",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"placeholder": "e.g. ESP", "size": 6}),
    )
    date_from = forms.DateField(
        label="Created from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    feature = forms.CharField(
        label="Feature status",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "e.g. AML:In Review"}),
    )
    # The person's history flags (users/history.py), issue 15.
    history = forms.ChoiceField(
        label="Person's history",
        choices=[("", "Any"), *FLAG_LABELS.items()],
        required=False,
    )
    claim = forms.ChoiceField(
        label="Claimed",
        choices=[("", "Anyone's"), ("mine", "Mine"), ("unclaimed", "Unclaimed")],
        required=False,
    )
    second_review = forms.ChoiceField(
        label="Second review",
        choices=[("", "Any"), ("pending", "Pending second review")],
        required=False,
    )
    sort = forms.ChoiceField(
        label="Sort",
        choices=[
            ("", "Default"),
            ("newest", "Newest first"),
            ("oldest", "Oldest first"),
            ("score", "AML score"),
        ],
        required=False,
    )
    page = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE, widget=forms.HiddenInput
    )

    def __init__(self, data=None, *args, user=None, **kwargs) -> None:
        self.user = user
        if data is not None:
            # The status select's "Any" option submits an empty value: it means no filter.
            data = data.copy()
            data.setlist("status", [value for value in data.getlist("status") if value])
        super().__init__(data, *args, **kwargs)

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean_feature(self) -> tuple[str, str] | None:
        value = self.cleaned_data["feature"].strip()
        if not value:
            return None
        match = FEATURE_RE.match(value)
        if match is None:
            raise forms.ValidationError("Write a feature and a status, e.g. AML:In Review.")
        return match["name"].upper(), match["status"].strip()

    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("aml_min"), data.get("aml_max")
        if low is not None and high is not None and low > high:
            self.add_error("aml_max", "The upper bound is below the lower one.")
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filter(self, sessions: QuerySet, *, with_status: bool = True) -> QuerySet:
        """Apply the cleaned filters (``with_status=False``: all but the status filter)."""
        data = self.cleaned_data
        if with_status and data.get("status"):
            sessions = sessions.filter(status__in=data["status"])
        if data.get("aml") == "yes":
            sessions = sessions.filter(aml_total_hits__gt=0)
        elif data.get("aml") == "no":
            sessions = sessions.filter(Q(aml_total_hits=0) | Q(aml_total_hits__isnull=True))
        if data.get("aml_min") is not None:
            sessions = sessions.filter(aml_score__gte=data["aml_min"])
        if data.get("aml_max") is not None:
            sessions = sessions.filter(aml_score__lte=data["aml_max"])
        if data.get("document_type"):
            sessions = sessions.filter(document_type=data["document_type"])
        if data.get("country"):
            sessions = sessions.filter(issuing_state=data["country"])
        if data.get("date_from"):
            sessions = sessions.filter(created_at__gte=_start_of(data["date_from"]))
        if data.get("date_to"):
            sessions = sessions.filter(
                created_at__lt=_start_of(data["date_to"] + timedelta(days=1))
            )
        if data.get("feature"):
            name, status = data["feature"]
            sessions = sessions.filter(**{f"feature_statuses__{name}": status})
        if data.get("history"):
            sessions = sessions.filter(flag_filter(data["history"], prefix="user__"))
        if data.get("q"):
            sessions = sessions.filter(session_search(data["q"], connections[sessions.db].vendor))
        if data.get("claim") == "mine" and self.user is not None:
            sessions = sessions.filter(workflow_filters.claimed_by(self.user))
        elif data.get("claim") == "unclaimed":
            sessions = sessions.filter(workflow_filters.unclaimed())
        if data.get("second_review") == "pending":
            sessions = sessions.filter(workflow_filters.pending_second_review())
        return sessions

    def sort_name(self) -> str:
        """The rows' order: as asked, else oldest first for the In Review queue alone (the
        longest waiting first), else newest first."""
        sort = self.cleaned_data.get("sort")
        if not sort:
            in_review = self.cleaned_data.get("status") == [SessionStatus.IN_REVIEW]
            sort = "oldest" if in_review else "newest"
        return sort

    def ordering(self) -> list:
        """``order_by`` arguments for ``sort_name()``; (id) breaks ties."""
        return ORDERINGS[self.sort_name()]

    def active_filters(self) -> dict[str, object]:
        """The filters in use, for the audit log of an export."""
        return {
            name: value
            for name, value in self.data.lists()
            if name in self.fields and name != "page" and any(value)
        }


ORDERINGS = {
    "newest": ["-created_at", "-id"],
    "oldest": ["created_at", "id"],
    "score": [F("aml_score").desc(nulls_last=True), "-created_at", "-id"],
}
SORT_LABELS = {
    "newest": "newest first",
    "oldest": "oldest first",
    "score": "highest AML score first",
}


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class StatusForm(forms.Form):
    """A decision for Didit: Approve, Decline or (v3) Resubmit chosen steps, with a comment
    (required to decline: the reason is the record). Built for one session: ``statuses``
    Didit accepts, the decision's ``nodes`` (node_id -> feature) and its ``warnings``
    (risk codes), each of which an Approve must acknowledge (field ``ack``)."""

    new_status = forms.ChoiceField(
        choices=[(SessionStatus.APPROVED, "Approve"), (SessionStatus.DECLINED, "Decline")]
    )
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Why? (required to decline)"}),
    )
    nodes_to_resubmit = forms.MultipleChoiceField(
        label="Steps to redo",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "“%(value)s” is not a step of this session's decision; "
            "nothing was sent to Didit."
        },
    )
    send_email = forms.BooleanField(label="Email the user", required=False)
    ack = forms.MultipleChoiceField(
        label="Warnings acknowledged",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "“%(value)s” is not a warning of this session."},
    )
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=500)

    def __init__(
        self,
        data=None,
        *args,
        statuses: list[tuple[str, str]] | None = None,
        nodes: dict[str, str] | None = None,
        warnings: list[str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(data, *args, **kwargs)
        if statuses is not None:
            self.fields["new_status"].choices = statuses
        self.nodes = nodes or {}
        self.warnings = warnings or []
        self.fields["nodes_to_resubmit"].choices = [(node, node) for node in self.nodes]
        self.fields["ack"].choices = [(risk, risk) for risk in self.warnings]

    def clean_comment(self) -> str:
        return self.cleaned_data["comment"].strip()

    def clean(self) -> dict:
        data = super().clean()
        status = data.get("new_status")
        if status == SessionStatus.DECLINED and not data.get("comment"):
            self.add_error("comment", "Say why you decline: the comment is required.")
        no_steps = not data.get("nodes_to_resubmit") and "nodes_to_resubmit" not in self.errors
        if status == SessionStatus.RESUBMITTED and no_steps:
            self.add_error("nodes_to_resubmit", "Choose at least one step to redo.")
        if status == SessionStatus.APPROVED and "ack" not in self.errors:
            missing = [risk for risk in self.warnings if risk not in (data.get("ack") or [])]
            if missing:
                self.add_error(
                    "ack",
                    "Acknowledge each warning before approving: " + ", ".join(missing) + ".",
                )
        return data

    def nodes_for_didit(self) -> list[dict[str, str]]:
        """The chosen steps as Didit's v3 update-status wants them (Resubmit only)."""
        if self.cleaned_data.get("new_status") != SessionStatus.RESUBMITTED:
            return []
        chosen = self.cleaned_data.get("nodes_to_resubmit") or []
        return [{"node_id": node, "feature": self.nodes[node]} for node in chosen]


class DispositionForm(forms.Form):
    """A review status for AML hits, sent to Didit: one hit (the URL names it) or several
    (``hit`` repeated). ``seen`` carries the page's ``pk:version`` pairs of the hits."""

    disposition = forms.ChoiceField(choices=Disposition.choices)
    note = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "Note (required for Confirmed Match)"}
        ),
    )
    whitelist = forms.BooleanField(
        required=False, label="Remember as not this person (whitelist the entity)"
    )
    whitelist_until = forms.DateField(
        required=False, label="Review by", widget=forms.DateInput(attrs={"type": "date"})
    )
    seen = forms.CharField(required=False, max_length=100_000, widget=forms.HiddenInput)
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=500)

    def clean_note(self) -> str:
        return self.cleaned_data["note"].strip()

    def clean_seen(self) -> dict[int, int]:
        seen: dict[int, int] = {}
        for pair in self.cleaned_data["seen"].split(","):
            pk, _, version = pair.strip().partition(":")
            if not pk:
                continue
            if not (pk.isdigit() and version.isdigit()):
                raise forms.ValidationError("The page's hit versions are unreadable.")
            seen[int(pk)] = int(version)
        return seen

    def clean(self) -> dict:
        data = super().clean()
        disposition = data.get("disposition")
        if disposition == Disposition.CONFIRMED_MATCH and not data.get("note"):
            self.add_error("note", "Say why it is a match: the note is required.")
        if data.get("whitelist"):
            if disposition and disposition != Disposition.FALSE_POSITIVE:
                self.add_error("whitelist", "Only a False Positive can be whitelisted.")
            if not data.get("note"):
                self.add_error("note", "Give the reason for whitelisting in the note.")
        elif data.get("whitelist_until"):
            self.add_error("whitelist_until", "A review-by date needs the whitelist box ticked.")
        until = data.get("whitelist_until")
        if until is not None and until <= timezone.localdate():
            self.add_error("whitelist_until", "The review-by date must be in the future.")
        return data


class BulkDispositionForm(DispositionForm):
    hit = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)

    def __init__(self, *args, hits=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hit"].choices = [(hit.pk, hit.pk) for hit in hits]
        self.fields["hit"].error_messages = {
            "required": "Select at least one hit.",
            "invalid_choice": "Hit %(value)s is not a hit of this session.",
        }


class SecondReviewForm(forms.Form):
    """A second reviewer's verdict on a held decision: confirm (send it) or reject it."""

    decision = forms.ChoiceField(choices=[("confirm", "Confirm"), ("reject", "Reject")])
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Note (required to reject)"}),
    )

    def clean_comment(self) -> str:
        return self.cleaned_data["comment"].strip()

    def clean(self) -> dict:
        data = super().clean()
        if data.get("decision") == "reject" and not data.get("comment"):
            self.add_error("comment", "Say why you reject it: the comment is required.")
        return data


# One day by default; Didit's docs set no maximum, ours is 30 days.
SHARE_TTL_DEFAULT = 24 * 60 * 60
SHARE_TTL_MAX = 30 * 24 * 60 * 60
SHARE_TOKEN_MAX_LENGTH = 8192


class ShareForm(forms.Form):
    """Share a finished session with a partner application (reusable KYC)."""

    ttl_in_seconds = forms.IntegerField(
        label="Valid for (seconds)",
        min_value=60,
        max_value=SHARE_TTL_MAX,
        initial=SHARE_TTL_DEFAULT,
    )
    for_application_id = forms.CharField(
        label="Only for application (optional)", max_length=255, required=False, strip=True
    )


class ImportSharedForm(forms.Form):
    """Import a session a partner shared with us, by its share token."""

    share_token = forms.CharField(
        max_length=SHARE_TOKEN_MAX_LENGTH, strip=True, widget=forms.Textarea(attrs={"rows": 3})
    )
    workflow_id = forms.CharField(label="Workflow", max_length=64, required=False, strip=True)
    # Whole, never shortened: a cut vendor_data would name another person. Longer than our
    # columns hold, the imported session could not be synced: refused before asking Didit.
    vendor_data = forms.CharField(
        label="Vendor data (our id for the person)",
        max_length=MAX_VENDOR_DATA,
        required=False,
        strip=True,
    )
    trust_review = forms.BooleanField(
        label="Trust the partner's review (keep its status instead of In Review)", required=False
    )
