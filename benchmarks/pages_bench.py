"""Session page and PDF reports, each at two sizes so the growth shows.

On a seeded database: the session page (``/sessions/<id>/``) of a session with few AML hits,
reviews and linked people against one with 50 hits, 20 reviews and 200 sessions of others
sharing its IP (median, p95, SQL queries: the count must not grow); our compliance PDF for
those two sessions; the user report for a user with 5 and with 20 sessions (median seconds
per report). Target: a session report under 1 s.
"""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta

from .harness import (
    get_ok,
    machine,
    measure,
    ms,
    print_table,
    scratch_database,
    seed,
    superuser_client,
)

SESSION_SIZES = ((10, 5), (50, 20))  # (AML hits, reviews)
USER_SIZES = (5, 20)  # sessions
TARGET_REPORT = 1.0


def session_with(hits: int, reviews: int, *, skip: int):
    """A seeded session with an AML screening, given exactly this many hits and reviews."""
    from django.utils import timezone

    from verifications.models import AmlHit, Review, ReviewSource, VerificationSession

    session = (
        VerificationSession.objects.filter(aml__isnull=False, document__isnull=False)
        .order_by("-created_at")
        .select_related("aml")[skip]
    )
    template = AmlHit.objects.filter(session__aml_total_hits__gt=0).first()
    copied = {
        field.attname: getattr(template, field.attname)
        for field in AmlHit._meta.concrete_fields
        if not field.primary_key and field.name != "session"
    }
    session.aml_hits.all().delete()
    session.reviews.all().delete()
    AmlHit.objects.bulk_create(
        AmlHit(**{**copied, "session": session, "hit_id": f"bench-{i}", "position": i})
        for i in range(hits)
    )
    now = timezone.now()
    Review.objects.bulk_create(
        Review(
            session=session,
            source=ReviewSource.DIDIT,
            new_status="In Review",
            comment=f"Checked source {i} of the watchlist match; escalating.",
            created_at=now - timedelta(hours=reviews - i),
            didit_user="compliance@example.com",
            didit_created_at=now - timedelta(hours=reviews - i),
            didit_fingerprint=f"bench-{i}",
        )
        for i in range(reviews)
    )
    _link(session, others=reviews * 10)
    VerificationSession.objects.filter(pk=session.pk).update(aml_total_hits=hits)
    session.aml.total_hits = hits
    session.aml.save(update_fields=["total_hits"])
    return session


def _link(session, *, others: int) -> None:
    """Give ``others`` sessions of other people this session's IP address: the linked
    identities panel then lists them (its query count must not grow)."""
    from verifications.models import SessionIdentifier, VerificationSession

    value = f"198.51.100.{others % 250}"
    pks = (
        VerificationSession.objects.exclude(user=session.user_id)
        .order_by("-created_at")
        .values_list("pk", flat=True)[:others]
    )
    SessionIdentifier.objects.bulk_create(
        [SessionIdentifier(session_id=pk, kind="ip_address", value=value) for pk in pks]
        + [SessionIdentifier(session=session, kind="ip_address", value=value)],
        ignore_conflicts=True,
    )


def user_with(sessions: int, *, skip: int):
    """A seeded user given exactly this many sessions (taken from other users)."""
    from users.models import DiditUser
    from verifications.models import VerificationSession

    user = DiditUser.objects.order_by("-last_session_at")[skip]
    own = list(user.sessions.values_list("pk", flat=True))
    others = (
        VerificationSession.objects.exclude(user=user)
        .order_by("-created_at")
        .values_list("pk", flat=True)[: max(0, sessions - len(own))]
    )
    keep = own[:sessions]
    VerificationSession.objects.filter(pk__in=own[sessions:]).update(user=None)
    VerificationSession.objects.filter(pk__in=list(others)).update(
        user=user, vendor_data=user.vendor_data
    )
    user.recompute()
    assert user.sessions.count() == sessions, (user.sessions.count(), len(keep))
    return user


def run(base: int, repeat: int, pdf_repeat: int, *, session_sizes, user_sizes):
    from django.contrib.auth import get_user_model

    from verifications.pdf import render_session_report, render_user_report, report_sessions

    seed(base)
    client = superuser_client()
    staff = get_user_model().objects.get(username="bench")
    rows = []
    for skip, (hits, reviews) in enumerate(session_sizes):
        session = session_with(hits, reviews, skip=skip)
        page = measure(get_ok(client, f"/sessions/{session.session_id}/"), repeat=repeat)
        loaded = report_sessions().get(pk=session.pk)
        report = measure(
            lambda s=loaded: render_session_report(s, generated_by=staff),
            repeat=pdf_repeat,
            warmup=1,
        )
        rows.append((f"{hits} AML hits, {reviews} reviews", page, report))
    users = []
    for skip, count in enumerate(user_sizes):
        user = user_with(count, skip=skip)
        report = measure(
            lambda u=user: render_user_report(u, generated_by=staff),
            repeat=pdf_repeat,
            warmup=1,
        )
        users.append((f"user with {count} sessions", report, count))
    return rows, users


def report(rows, users, *, vendor: str) -> bool:
    table = [
        [
            what,
            ms(page["median"]),
            ms(page["p95"]),
            page["queries"],
            f"{pdf['median']:.2f} s",
            pdf["queries"],
        ]
        for what, page, pdf in rows
    ]
    print_table(
        f"Session page and compliance PDF ({machine(vendor)})",
        ["session", "page median", "p95", "SQL", "PDF median", "SQL"],
        table,
    )
    print_table(
        "User report PDF",
        ["user", "PDF median", "SQL"],
        [[what, f"{pdf['median']:.2f} s", pdf["queries"]] for what, pdf, _ in users],
    )
    (_, small_page, small_pdf), (_, large_page, large_pdf) = rows
    same = small_page["queries"] == large_page["queries"]
    fast = large_pdf["median"] < TARGET_REPORT
    print(
        f"\nGrowth: session page x{large_page['median'] / small_page['median']:.2f}, queries "
        f"{small_page['queries']} -> {large_page['queries']} [{'same' if same else 'GROWS'}]; "
        f"session PDF x{large_pdf['median'] / small_pdf['median']:.2f} "
        f"[target < {TARGET_REPORT:.0f} s: {'met' if fast else 'MISSED'}]; user PDF "
        f"x{users[1][1]['median'] / users[0][1]['median']:.2f} for "
        f"x{users[1][2] / users[0][2]:.0f} sessions"
    )
    return same and fast


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks pages", description=__doc__)
    parser.add_argument("--sessions", type=int, default=10_000, help="seeded first")
    parser.add_argument("--quick", action="store_true", help="1k sessions, fewer repeats")
    parser.add_argument("--repeat", type=int, default=30, help="page requests per figure")
    parser.add_argument("--pdf-repeat", type=int, default=5, help="reports per figure")
    parser.add_argument("--smoke", action="store_true", help="tiny: for the test suite")
    args = parser.parse_args(argv)
    base = 1_000 if args.quick else args.sessions
    repeat, pdf_repeat = (5, 2) if args.quick else (args.repeat, args.pdf_repeat)
    session_sizes, user_sizes = SESSION_SIZES, USER_SIZES
    if args.smoke:
        base, repeat, pdf_repeat = 200, 2, 1
        session_sizes, user_sizes = ((2, 1), (5, 2)), (1, 2)
    with scratch_database() as database:
        # After Django's logging set-up. Seeded image URLs are on a host the report's fetcher
        # refuses by design (benchmarks/RESULTS.md): WeasyPrint logs each refusal as an error.
        logging.getLogger("weasyprint").setLevel(logging.CRITICAL)
        rows, users = run(
            base, repeat, pdf_repeat, session_sizes=session_sizes, user_sizes=user_sizes
        )
        ok = report(rows, users, vendor=database.vendor)
    return 0 if ok else 1
