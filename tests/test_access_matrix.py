"""Who may do what: every URL of the project × every role × GET and POST.

The URLs come from the URLconf, so a new view is covered the day it lands: without a rule in
``RULES`` the test fails with "add a rule for <name>". Each rule says, per role, what a GET
and an empty POST must get. An empty POST is enough to prove the permission check: it runs
before the form is validated, so a role that may write gets a 200/302/400, one that may not
gets a 403 (or 405 where the view is read-only). Writes that would reach Didit go to a
loopback sandbox (``tests/trust.py``).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client

from .trust import concrete_path, project_urls, world_of

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "viewer", "reviewer", "admin")

# Outcomes, by what they mean rather than by status code.
LOGIN = "login"  # redirected to the console's login page
ADMIN_LOGIN = "admin-login"  # redirected to the admin's login page
ANY_LOGIN = "any-login"  # either login page
PAGE = "page"  # 200
OK = "ok"  # allowed: any answer below 500 that is not a refusal or a login redirect
REACHED = "reached"  # the view answered itself (may refuse), no login redirect, below 500
ANSWERED = "answered"  # any answer below 500, a login redirect included
FORBIDDEN = "forbidden"  # 403
NOT_ALLOWED = "not-allowed"  # 405
REJECTED = "rejected"  # 400/401/403/413: the webhook's verdict on an unsigned body

READ = {"GET": PAGE, "POST": NOT_ALLOWED}
WRITE = {"GET": NOT_ALLOWED, "POST": OK}
REFUSED_READ = {"GET": FORBIDDEN, "POST": NOT_ALLOWED}
REFUSED_WRITE = {"GET": NOT_ALLOWED, "POST": FORBIDDEN}
ANONYMOUS = {"GET": LOGIN, "POST": LOGIN}


def rule(**roles: dict[str, str]) -> dict[str, dict[str, str]]:
    """A rule for every role: anonymous goes to the login page unless the rule says otherwise."""
    missing = set(ROLES) - set(roles) - {"anonymous"}
    assert not missing, f"rule without {sorted(missing)}"
    return {"anonymous": ANONYMOUS, **roles}


def everyone(outcomes: dict[str, str]) -> dict[str, dict[str, str]]:
    return dict.fromkeys(ROLES, outcomes)


# Console pages every role with the view permission reads; nobody posts to them.
CONSOLE_READ = rule(outsider=REFUSED_READ, viewer=READ, reviewer=READ, admin=READ)
# Console writes: reviewers and admins (who hold every permission); never viewers.
CONSOLE_WRITE = rule(outsider=REFUSED_WRITE, viewer=REFUSED_WRITE, reviewer=WRITE, admin=WRITE)
_REFUSED_FORM = {"GET": FORBIDDEN, "POST": FORBIDDEN}
_FORM = {"GET": PAGE, "POST": OK}
CONSOLE_FORM = rule(outsider=_REFUSED_FORM, viewer=_REFUSED_FORM, reviewer=_FORM, admin=_FORM)
LOGGED_IN_READ = rule(outsider=READ, viewer=READ, reviewer=READ, admin=READ)
ACCOUNT_FORM = {"GET": PAGE, "POST": PAGE}  # an empty POST shows the form's errors
LOGGED_IN_OWN = rule(
    **dict.fromkeys(("outsider", "viewer", "reviewer", "admin"), {"GET": OK, "POST": OK})
)
# The admin site: only the admin persona; everyone else is sent to the admin's login page.
ADMIN_ONLY = {
    "anonymous": {"GET": ANY_LOGIN, "POST": ANY_LOGIN},
    "outsider": {"GET": ANY_LOGIN, "POST": ANY_LOGIN},
    "viewer": {"GET": ANY_LOGIN, "POST": ANY_LOGIN},
    "reviewer": {"GET": ANY_LOGIN, "POST": ANY_LOGIN},
    # The admin reaches every page; some refuse by design (no adding synced data, no
    # deleting audit entries): test_audit_integrity.py says which.
    "admin": {"GET": REACHED, "POST": REACHED},
}

RULES: dict[str, dict[str, dict[str, str]]] = {
    "home": rule(
        outsider={"GET": OK, "POST": NOT_ALLOWED},
        viewer={"GET": OK, "POST": NOT_ALLOWED},
        reviewer={"GET": OK, "POST": NOT_ALLOWED},
        admin={"GET": OK, "POST": NOT_ALLOWED},
    ),
    # Accounts: Django's auth views. Login is public; the rest need a login.
    "login": everyone(ACCOUNT_FORM),
    # Logging out ends one's own session and redirects to the login page.
    "logout": {
        **everyone({"GET": NOT_ALLOWED, "POST": ANSWERED}),
        "anonymous": ANONYMOUS,
    },
    "password_change": rule(
        outsider=ACCOUNT_FORM, viewer=ACCOUNT_FORM, reviewer=ACCOUNT_FORM, admin=ACCOUNT_FORM
    ),
    "password_change_done": LOGGED_IN_READ,
    # Password reset by e-mail is Django's, public by design; the console sends no mail
    # unless EMAIL_* is configured, and an unknown address reveals nothing.
    "password_reset": everyone({"GET": PAGE, "POST": PAGE}),
    "password_reset_done": everyone(READ),
    "password_reset_confirm": everyone({"GET": PAGE, "POST": OK}),
    "password_reset_complete": everyone(READ),
    # The second sign-in step and its enrolment (REQUIRE_2FA): one's own devices only.
    "two-factor": LOGGED_IN_OWN,
    "two-factor-setup": LOGGED_IN_OWN,
    # The console.
    "verifications:session-list": CONSOLE_READ,
    "verifications:session-export": CONSOLE_READ,
    "verifications:session-detail": CONSOLE_READ,
    "verifications:session-didit-pdf": CONSOLE_READ,
    "verifications:session-report": CONSOLE_READ,
    "verifications:session-status": CONSOLE_WRITE,
    # The AML section: htmx gets the fragment, a plain GET is redirected to the session page.
    "verifications:aml-hits": rule(
        outsider=REFUSED_READ,
        viewer={"GET": OK, "POST": NOT_ALLOWED},
        reviewer={"GET": OK, "POST": NOT_ALLOWED},
        admin={"GET": OK, "POST": NOT_ALLOWED},
    ),
    "verifications:aml-hits-disposition": CONSOLE_WRITE,
    "verifications:aml-hit-disposition": CONSOLE_WRITE,
    # The review workflow: "next" claims (a write) through a GET, by contract.
    "verifications:session-next": rule(
        outsider=REFUSED_READ,
        viewer=REFUSED_READ,
        reviewer={"GET": OK, "POST": NOT_ALLOWED},
        admin={"GET": OK, "POST": NOT_ALLOWED},
    ),
    "verifications:my-work": CONSOLE_READ,
    "verifications:session-claim": CONSOLE_WRITE,
    "verifications:session-release": CONSOLE_WRITE,
    "verifications:session-second-review": CONSOLE_WRITE,
    "users:user-detail": rule(outsider=REFUSED_READ, viewer=READ, reviewer=READ, admin=READ),
    "users:user-report": rule(outsider=REFUSED_READ, viewer=READ, reviewer=READ, admin=READ),
    "users:user-reverify": CONSOLE_WRITE,
    # Reusable KYC (issue 15): a form page and its POST, for reviewers and admins only.
    "verifications:session-share": CONSOLE_FORM,
    "verifications:session-import": CONSOLE_FORM,
    # The evidence archive: files to those who may see sessions (an unknown hash is a 404);
    # packs built by reviewers and admins, each pack's page and ZIP for whoever asked for it
    # (an unknown pack is a 404 to everyone).
    "evidence-file": rule(
        outsider=REFUSED_READ,
        viewer={"GET": OK, "POST": NOT_ALLOWED},
        reviewer={"GET": OK, "POST": NOT_ALLOWED},
        admin={"GET": OK, "POST": NOT_ALLOWED},
    ),
    "evidence-pack-create": CONSOLE_WRITE,
    "evidence-pack-detail": rule(
        **dict.fromkeys(
            ("outsider", "viewer", "reviewer", "admin"), {"GET": OK, "POST": NOT_ALLOWED}
        )
    ),
    "evidence-pack-download": rule(
        **dict.fromkeys(
            ("outsider", "viewer", "reviewer", "admin"), {"GET": OK, "POST": NOT_ALLOWED}
        )
    ),
    # Didit's webhooks: public, authenticated by their HMAC signature alone.
    "didit-webhook": everyone({"GET": NOT_ALLOWED, "POST": REJECTED}),
}
# Whole namespaces whose every URL follows one rule (each admin model adds five URLs).
NAMESPACE_RULES = {"admin": ADMIN_ONLY}
# Pages of the admin site itself that anyone may load.
ADMIN_PUBLIC = {
    "admin:login": everyone({"GET": OK, "POST": OK}),
    "admin:logout": everyone({"GET": ANSWERED, "POST": ANSWERED}),
}
# Views any logged-in role may POST to: they change only the user's own account.
OWN_ACCOUNT = {
    "two-factor",
    "two-factor-setup",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "admin:login",
    "admin:logout",
}


def rule_for(name: str, namespace: str):
    if name in ADMIN_PUBLIC:
        return ADMIN_PUBLIC[name]
    if name in RULES:
        return RULES[name]
    return NAMESPACE_RULES.get(namespace.split(":")[0])


def outcome(response) -> str:
    status = response.status_code
    location = response.get("Location", "")
    if status in (301, 302) and location.startswith(resolve_url(settings.LOGIN_URL)):
        return LOGIN
    if status in (301, 302) and location.startswith("/admin/login/"):
        return ADMIN_LOGIN
    if status == 403:
        return FORBIDDEN
    if status == 405:
        return NOT_ALLOWED
    if status >= 500:
        return f"error {status}"
    return str(status)


def satisfies(expected: str, got: str, response) -> bool:
    status = response.status_code
    if expected == PAGE:
        return status == 200
    if expected == OK:
        return got not in (LOGIN, ADMIN_LOGIN, FORBIDDEN, NOT_ALLOWED) and status < 500
    if expected == REACHED:
        return got not in (LOGIN, ADMIN_LOGIN) and status < 500
    if expected == ANSWERED:
        return status < 500
    if expected == ANY_LOGIN:
        return got in (LOGIN, ADMIN_LOGIN)
    if expected == REJECTED:
        return status in (400, 401, 403, 413)
    return expected == got


def test_every_url_has_a_rule():
    missing = [
        url.name
        for url in project_urls()
        if url.namespace.split(":")[0] not in NAMESPACE_RULES and url.name not in RULES
    ]

    assert not missing, "\n".join(f"add a rule for {name}" for name in missing)


def test_every_rule_names_a_url():
    names = {url.name for url in project_urls()}

    assert not set(RULES) - names, "rules for URLs that no longer exist"


@pytest.fixture
def world(synced_sandbox, admin):
    made = world_of(synced_sandbox)
    return {
        "session_id": made.session_id,
        "hit_pk": made.hit_pk,
        "vendor_data": made.vendor_data,
        # The admin's object URLs take any primary key; a missing one redirects to the index.
        "object_id": 1,
        "content_type_id": 1,
        "id": admin.pk,
        "app_label": "verifications",
        "url": "no-such-admin-page/",
        # A password-reset link that does not verify: the page says the link is invalid.
        "uidb64": "MQ",
        "token": "set-password",
        "sha256": "0" * 64,
        "pack_id": "00000000-0000-4000-8000-000000000000",
        "filename": "evidence-pack.zip",
    }


@pytest.fixture
def clients(django_user_model, viewer, reviewer, admin, outsider):
    """A fresh client per request: a POST to logout must not log the next request out."""
    personas = {"outsider": outsider, "viewer": viewer, "reviewer": reviewer, "admin": admin}

    def make(role: str) -> Client:
        client = Client(raise_request_exception=False)
        if role != "anonymous":
            client.force_login(personas[role])
        return client

    return make


@pytest.mark.slow
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world, clients, role, method):
    wrong = []
    for url in project_urls():
        rules = rule_for(url.name, url.namespace)
        assert rules is not None, f"add a rule for {url.name}"
        path = concrete_path(url, world)
        client = clients(role)
        response = client.get(path) if method == "GET" else client.post(path)
        got = outcome(response)
        expected = rules[role][method]
        if not satisfies(expected, got, response):
            wrong.append(f"{method} {path} ({url.name}) as {role}: expected {expected}, got {got}")

    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ["outsider", "viewer"])
def test_roles_without_write_permission_never_write(role):
    """The rules themselves: no POST allowed to a role that may only read, bar its own account."""
    permissive = [
        name
        for name, rules in {**RULES, **ADMIN_PUBLIC}.items()
        if name not in OWN_ACCOUNT and rules[role]["POST"] in (OK, PAGE, REACHED, ANSWERED)
    ]
    permissive += [
        namespace
        for namespace, rules in NAMESPACE_RULES.items()
        if rules[role]["POST"] in (OK, PAGE, REACHED, ANSWERED)
    ]

    assert not permissive


def test_only_admins_reach_the_admin_site():
    for role in ROLES:
        expected = REACHED if role == "admin" else ANY_LOGIN
        assert NAMESPACE_RULES["admin"][role] == {"GET": expected, "POST": expected}
