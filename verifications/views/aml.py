"""A session's AML hits: the sortable, filterable table and dispositions sent to Didit.

The section is ``verifications/_aml_section.html``, swapped as ``#aml-hits`` by htmx; every
link and form in it also works without JavaScript (the session page renders it too).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..forms import COMMENT_MAX_LENGTH, BulkDispositionForm, DispositionForm
from ..models import AmlHit, Disposition, VerificationSession
from ..services import (
    FormAlreadySubmitted,
    FormTokenError,
    consume_form_token,
    issue_form_token,
)
from ..services_aml import (
    AmlReviewConflict,
    AmlReviewRefused,
    DiditError,
    dispose_aml_hits,
    session_hits,
)

SECTION = "verifications/_aml_section.html"
SORTS = {
    "severity": None,  # session_hits' own order: sanctions, PEP, adverse media; then score
    "score": lambda hit: -(hit.match_score if hit.match_score is not None else -1),
    "risk": lambda hit: -(hit.risk_score if hit.risk_score is not None else -1),
    "name": lambda hit: (hit.caption or hit.hit_id).casefold(),
    "status": lambda hit: (not hit.is_unreviewed, hit.review_status),
}

COLUMNS = [("name", "Name"), ("score", "Match"), ("risk", "Risk"), ("severity", "Type")]


@require_GET
@login_required
@permission_required("verifications.view_verificationsession", raise_exception=True)
def aml_hits_section(request: HttpRequest, session_id: str) -> HttpResponse:
    """The section alone (htmx: filter, sort); without htmx, the session page at it."""
    session = get_object_or_404(
        VerificationSession.objects.select_related("aml"), session_id=session_id
    )
    if not request.htmx:
        return redirect(_page_url(request, session_id))
    return render(request, SECTION, aml_section_context(request, session))


@require_POST
@login_required
@permission_required("verifications.dispose_aml_hit", raise_exception=True)
def aml_hit_disposition(request: HttpRequest, session_id: str, hit_pk: int) -> HttpResponse:
    """One hit: ``disposition`` (Didit's words) and ``note``; optional ``whitelist``."""
    hit = get_object_or_404(
        AmlHit.objects.select_related("session__aml"), pk=hit_pk, session__session_id=session_id
    )
    form = DispositionForm(request.POST)
    return _dispose(request, hit.session, form, lambda data: [hit])


@require_POST
@login_required
@permission_required("verifications.dispose_aml_hit", raise_exception=True)
def aml_hits_disposition(request: HttpRequest, session_id: str) -> HttpResponse:
    """Several hits, one call to Didit: ``hit`` repeated, ``disposition``, ``note``."""
    session = get_object_or_404(
        VerificationSession.objects.select_related("aml"), session_id=session_id
    )
    hits = {hit.pk: hit for hit in session.aml_hits.all()}
    form = BulkDispositionForm(request.POST, hits=hits.values())
    return _dispose(request, session, form, lambda data: [hits[pk] for pk in data["hit"]])


def _dispose(
    request: HttpRequest,
    session: VerificationSession,
    form: DispositionForm,
    selected: Callable[[dict], list[AmlHit]],
) -> HttpResponse:
    """Parse, claim and send through the service; answer the section (or the page)."""
    status, notice = 200, None
    if not form.is_valid():
        status, notice = 400, ("error", _form_errors(form))
    else:
        data = form.cleaned_data
        hits = list(dict.fromkeys(selected(data)))
        try:
            consume_form_token(data["form_token"], user=request.user, purpose=_purpose(session))
            dispose_aml_hits(
                session=session,
                hits=hits,
                disposition=data["disposition"],
                note=data["note"],
                actor=request.user,
                request=request,
                seen=data["seen"],
                whitelist=data["whitelist"],
                whitelist_until=data["whitelist_until"],
            )
        except FormAlreadySubmitted as error:
            status, notice = 409, ("warning", str(error))
        except FormTokenError as error:
            status, notice = 400, ("warning", str(error))
        except AmlReviewConflict as error:
            status, notice = 409, ("warning", str(error))
        except AmlReviewRefused as error:
            status, notice = 400, ("error", str(error))
        except DiditError as error:
            status, notice = 502, ("error", _didit_message(error))
        else:
            count = f"{len(hits)} hits" if len(hits) > 1 else f"Hit “{_label(hits[0])}”"
            text = f"{count} marked {data['disposition']} at Didit."
            if not request.htmx:
                messages.success(request, text)
                return redirect(_page_url(request, session.session_id))
            return render(
                request, SECTION, aml_section_context(request, session, notice=("success", text))
            )
    # Refused or failed: nothing was stored; show why beside the hits and keep the form.
    context = aml_section_context(request, session, failed=form, notice=notice)
    if request.htmx:
        return render(request, SECTION, context, status=status)
    from . import session as session_views  # The full page: its other sections too.

    page = session_views._page_context(request, session_views._load(session.session_id))
    page.update(context)
    return render(request, session_views.TEMPLATE, page, status=status)


def aml_section_context(
    request: HttpRequest,
    session: VerificationSession,
    *,
    failed: DispositionForm | None = None,
    notice: tuple[str, str] | None = None,
) -> dict:
    """What ``_aml_section.html`` needs; the session page merges it into its context."""
    hits = session_hits(session)
    shown_filter = "unreviewed" if request.GET.get("hits") == "unreviewed" else "all"
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "severity"
    shown = [hit for hit in hits if hit.is_unreviewed] if shown_filter == "unreviewed" else hits
    if SORTS[sort] is not None:
        shown = sorted(shown, key=SORTS[sort])
    can_dispose = request.user.has_perm("verifications.dispose_aml_hit")
    offered = [hit for hit in hits if hit.offered_entry is not None and hit.is_unreviewed]
    context = {
        "session": session,
        "aml": getattr(session, "aml", None),
        "aml_hits": shown,
        "aml_all_hits": hits,
        "aml_hit_count": len(hits),
        "aml_unreviewed_count": sum(1 for hit in hits if hit.is_unreviewed),
        "aml_filter": shown_filter,
        "aml_sort": sort,
        "aml_filters": [("all", "All hits"), ("unreviewed", "Unreviewed only")],
        "aml_columns": COLUMNS,
        "aml_seen": ",".join(f"{hit.pk}:{hit.review_version}" for hit in hits),
        "aml_notice": notice,
        "aml_dispositions": Disposition.values,
        "can_dispose": can_dispose,
        "aml_form": None,
        "aml_selected": set(),
        "aml_offered": offered,
    }
    if can_dispose:
        token = issue_form_token(user=request.user, purpose=_purpose(session))
        if failed is not None:
            data = failed.data.copy()
            data["form_token"] = token
            data["seen"] = context["aml_seen"]
            form = DispositionForm(data)
            context["aml_selected"] = {int(v) for v in data.getlist("hit") if v.isdigit()}
        else:
            form = DispositionForm(initial={"form_token": token, "seen": context["aml_seen"]})
            context["aml_selected"] = {hit.pk for hit in offered}
        context["aml_form"] = form
        if offered:
            context["aml_offer_token"] = issue_form_token(
                user=request.user, purpose=_purpose(session)
            )
            reasons = dict.fromkeys(hit.offered_entry.reason for hit in offered)
            note = "Whitelisted earlier: " + " / ".join(reasons)
            context["aml_offer_note"] = note[:COMMENT_MAX_LENGTH]
    return context


def _page_url(request: HttpRequest, session_id: str) -> str:
    """The session page at its AML section, with the section's filter and order, if any."""
    query = urlencode({k: request.GET[k] for k in ("hits", "sort") if request.GET.get(k)})
    url = reverse("verifications:session-detail", kwargs={"session_id": session_id})
    return f"{url}?{query}#aml-hits" if query else f"{url}#aml-hits"


def _purpose(session: VerificationSession) -> str:
    return f"aml-hits:{session.session_id}"


def _label(hit: AmlHit) -> str:
    return hit.caption or hit.hit_id


def _form_errors(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name.replace("_", " ")) if field is not None else ""
        for error in errors:
            parts.append(f"{label.capitalize()}: {error}" if label else error)
    return " ".join(parts)


def _didit_message(error: DiditError) -> str:
    if error.status is not None and 400 <= error.status < 500 and error.status != 429:
        return f"Didit refused the review status: {error.detail} Nothing was stored."
    return (
        "Didit could not be reached or did not confirm the review status; nothing was "
        "stored. Try again in a moment."
    )
