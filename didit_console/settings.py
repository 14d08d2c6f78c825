"""Settings for Didit Console: one module, every environment difference from the environment.

A `.env` file beside manage.py is read if present; `.env.example` lists every variable.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# --- Core -------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: a fixed key is harmless when DEBUG is on and nothing is exposed.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the sync, webhooks and reviewers share one SQLite file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests use a WAL file too, as production does: SQLite's default in-memory test database
    # (shared cache) fails a second connection's query at once instead of waiting, so tests
    # of concurrent requests would test the test database rather than the console.
    # One file per test process, so two runs in one checkout never share it.
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", str(BASE_DIR / f"test-db-{os.getpid()}.sqlite3")
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The default cache is per process unless CACHE_URL names a shared one (redis://, ...). The
# "didit" cache holds Didit's OAuth token; a table in our database by default, so every
# process shares it (the table is created by migration verifications 0010).
CACHES = {
    "default": env.cache("CACHE_URL", default="locmemcache://"),
    "didit": env.cache("DIDIT_CACHE_URL", default="dbcache://didit_cache"),
}

# Background tasks (Django's tasks API, through django-tasks): webhooks' re-fetches run on
# the database backend's worker (`manage.py db_worker`). TASKS_BACKEND=immediate runs each
# task inside the request instead (tests, and a console without a worker).
TASKS_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
if TASKS_BACKEND not in TASKS_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {sorted(TASKS_BACKENDS)}.")
TASKS = {"default": {"BACKEND": TASKS_BACKENDS[TASKS_BACKEND]}}

# --- Didit API --------------------------------------------------------------------------------
DIDIT_API_KEY = env.str("DIDIT_API_KEY", default="")
DIDIT_CLIENT_ID = env.str("DIDIT_CLIENT_ID", default="")
DIDIT_CLIENT_SECRET = env.str("DIDIT_CLIENT_SECRET", default="")
DIDIT_VERIFICATION_URL = env.str("DIDIT_VERIFICATION_URL", default="https://verification.didit.me")
DIDIT_AUTH_URL = env.str("DIDIT_AUTH_URL", default="https://apx.didit.me")
DIDIT_WEBHOOK_SECRET = env.str("DIDIT_WEBHOOK_SECRET", default="")
# Hosts (host or host:port) our server may fetch Didit media from, for PDFs and image checks,
# besides the host of DIDIT_VERIFICATION_URL. Didit's presigned media live on its storage host.
DIDIT_MEDIA_HOSTS = env.list("DIDIT_MEDIA_HOSTS", default=[])
# Seconds our server waits for one media file (PDF rendering).
DIDIT_MEDIA_TIMEOUT = env.float("DIDIT_MEDIA_TIMEOUT", default=5.0)
# Which path family decisions, PDFs and status updates use; listing is v3 only.
DIDIT_API_VERSION = env.str("DIDIT_API_VERSION", default="v3")
# Seconds to wait for Didit to connect, and to answer a batch call (sync_didit).
DIDIT_CONNECT_TIMEOUT = env.float("DIDIT_CONNECT_TIMEOUT", default=5.0)
DIDIT_READ_TIMEOUT = env.float("DIDIT_READ_TIMEOUT", default=30.0)
# Batch budget (sync_didit): retries per call, and the longest Retry-After it waits out.
DIDIT_BATCH_RETRIES = env.int("DIDIT_BATCH_RETRIES", default=4)
DIDIT_BATCH_MAX_RETRY_AFTER = env.float("DIDIT_BATCH_MAX_RETRY_AFTER", default=120.0)
# Interactive budget (anything a person or Didit's webhook waits on): retries per call, the
# longest Retry-After (and backoff) it waits out, and its read timeout.
DIDIT_INTERACTIVE_RETRIES = env.int("DIDIT_INTERACTIVE_RETRIES", default=1)
DIDIT_INTERACTIVE_MAX_RETRY_AFTER = env.float("DIDIT_INTERACTIVE_MAX_RETRY_AFTER", default=2.0)
DIDIT_INTERACTIVE_READ_TIMEOUT = env.float("DIDIT_INTERACTIVE_READ_TIMEOUT", default=10.0)
# The cache alias (CACHES above) holding the OAuth token, so requests and processes share one
# token until shortly before it expires.
DIDIT_TOKEN_CACHE = env.str("DIDIT_TOKEN_CACHE", default="didit")
# Client-side pacing per endpoint family, "family=calls/seconds,..."; Didit's published limits.
DIDIT_RATE_LIMITS = env.str(
    "DIDIT_RATE_LIMITS", default="decision=100/60,pdf=100/60,read=600/60,write=300/60"
)
# Days an AML false-positive whitelist entry applies before it must be reviewed again.
AML_WHITELIST_DAYS = env.int("AML_WHITELIST_DAYS", default=365)

# Where Didit sends the person back / notifies when a re-verification started here ends
# ("callback" of create-session); empty: Didit's workflow default.
DIDIT_CALLBACK_URL = env.str("DIDIT_CALLBACK_URL", default="")
# History flags on the user page and in the queue: this many sessions within this many days
# is "many sessions in a short time"; an approval older than the interval is "re-KYC due".
DIDIT_HISTORY_BURST_SESSIONS = env.int("DIDIT_HISTORY_BURST_SESSIONS", default=3)
DIDIT_HISTORY_BURST_DAYS = env.int("DIDIT_HISTORY_BURST_DAYS", default=30)
DIDIT_REKYC_INTERVAL_DAYS = env.int("DIDIT_REKYC_INTERVAL_DAYS", default=365)

# --- Applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    # Login throttling: failed logins are counted per username and IP, then locked out.
    "axes",
    # Two-factor sign-in: TOTP apps and single-use recovery codes (see "Two-factor sign-in").
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "verifications",
    "users",
    # Development tooling (manage.py demo, seed_sessions): no models, nothing served.
    "devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files with hashed names, compressed, far-future cache headers (before sessions).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A NUL byte in a URL would reach PostgreSQL as an error (a 500): refuse it first.
    "verifications.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view requires login unless marked @login_not_required (login page, webhooks).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # request.user.is_verified(): signed in with a second factor in this session ...
    "django_otp.middleware.OTPMiddleware",
    # ... which every page but the second-factor step requires when REQUIRE_2FA is on.
    "users.middleware.RequireTwoFactorMiddleware",
    # Personal data: no caching anywhere on the way; refused attempts on it audited.
    "verifications.middleware.PrivateResponseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "didit_console.urls"
WSGI_APPLICATION = "didit_console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes' backend comes first: it refuses a locked-out username+IP before the password is
# checked. It needs the request, so tests log in with ``force_login`` or through the form.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After this many failed logins for one username from one IP, that pair is locked out ...
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
# ... for this many minutes (each failure during the lockout starts it again).
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The peer address, as for the audit log: a client-sent X-Forwarded-For must not pick its IP.
AXES_CLIENT_IP_CALLABLE = "verifications.audit.client_ip"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
# Reviewers are logged out after this many seconds without a request.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
SESSION_SAVE_EVERY_REQUEST = True

# --- Two-factor sign-in -----------------------------------------------------------------------
# Staff sign in with a password and then a code from an authenticator app (TOTP) or a
# single-use recovery code, for the console and the admin alike; enrolment happens on the first
# login. On by default whenever DEBUG is off; the demo and the tests turn it off.
REQUIRE_2FA = env.bool("REQUIRE_2FA", default=not DEBUG)
# The issuer name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Didit Console")
# Recovery codes issued at enrolment (each works once).
TWO_FACTOR_RECOVERY_CODES = 10
# With a second factor, a right password alone must not wipe the failed-attempt count (wrong
# codes count too): users/two_factor.py resets it once both steps have passed.
AXES_RESET_ON_SUCCESS = not REQUIRE_2FA

# --- Console ----------------------------------------------------------------------------------
# Seconds the queue's per-status counts of the whole table are reused: counting 100k+ rows on
# every page view is the queue's costliest query. Filtered counts are always exact. 0: never.
QUEUE_COUNTS_CACHE_SECONDS = env.int("QUEUE_COUNTS_CACHE_SECONDS", default=30)
# A reviewer's claim on a session lapses after this many minutes without activity.
CLAIM_TTL_MINUTES = env.int("CLAIM_TTL_MINUTES", default=30)
# Hours an In Review session may wait; the queue colours sessions near it and counts breaches.
REVIEW_SLA_HOURS = env.float("REVIEW_SLA_HOURS", default=24)
# Four-eyes: decisions that a second, different reviewer must confirm before Didit is told.
# approve_confirmed_match: approving with a Confirmed Match (or true-match) AML hit;
# approve_pep: approving with a PEP hit; approve_declined: approving what Didit declined;
# aml_score: any decision on a session whose AML score is at least FOUR_EYES_AML_SCORE.
FOUR_EYES_RULES = env.list(
    "FOUR_EYES_RULES",
    default=["approve_confirmed_match", "approve_pep", "approve_declined", "aml_score"],
)
FOUR_EYES_AML_SCORE = env.float("FOUR_EYES_AML_SCORE", default=80)

# --- Evidence archive and retention -----------------------------------------------------------
# Uploaded and archived files live under MEDIA_ROOT (never served as public static files).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"
# The evidence archive: a local directory by default; any Django storage backend (e.g.
# django-storages' "storages.backends.s3.S3Storage", with EVIDENCE_STORAGE_OPTIONS such as
# {"bucket_name": "...", "object_parameters": {"ObjectLockMode": "COMPLIANCE", ...}}).
EVIDENCE_STORAGE_BACKEND = env.str(
    "EVIDENCE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
)
EVIDENCE_STORAGE_OPTIONS = env.json(
    "EVIDENCE_STORAGE_OPTIONS", default={"location": str(MEDIA_ROOT / "evidence")}
)
# (STORAGES["evidence"] is defined with the other storages under "Production serving".)
# Largest media file archived, in bytes; larger ones are refused and reported.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)
# Also archive Didit's own PDF report once a session reaches a final status.
EVIDENCE_ARCHIVE_DIDIT_PDF = env.bool("EVIDENCE_ARCHIVE_DIDIT_PDF", default=False)
# Hours an evidence pack (ZIP) can be downloaded before it is deleted.
EVIDENCE_PACK_TTL_HOURS = env.int("EVIDENCE_PACK_TTL_HOURS", default=24)
# A person's compliance report with more sessions than this is rendered by a background task
# (a progress page offers the PDF when ready, kept as long as an evidence pack).
USER_REPORT_INLINE_MAX_SESSIONS = env.int("USER_REPORT_INLINE_MAX_SESSIONS", default=5)
# Days after a session's last activity when its personal data and evidence are purged
# (manage.py apply_retention). Unset: kept forever.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=None)

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Production serving -----------------------------------------------------------------------
# WhiteNoise serves collectstatic's output: compressed (gzip, brotli) copies, content-hashed
# names, and a far-future immutable Cache-Control on hashed files. The manifest storage needs
# `collectstatic` first; tests and `runserver` use the plain storage (STATICFILES_BACKEND).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
    "evidence": {"BACKEND": EVIDENCE_STORAGE_BACKEND, "OPTIONS": EVIDENCE_STORAGE_OPTIONS},
}
# PostgreSQL: a connection pool per process (Django 5.2's psycopg pool) instead of one
# connection per request, sized in connections: "4" or "2,8" (min,max). Empty: no pool.
DATABASE_POOL = env.str("DATABASE_POOL", default="")
if DATABASE_POOL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    pool_min, _, pool_max = DATABASE_POOL.partition(",")
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(pool_min),
        "max_size": int(pool_max or pool_min),
        "timeout": 10,
    }
    # A pool and persistent connections are two answers to the same question: pick one.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Addresses of reverse proxies in front of gunicorn (e.g. 127.0.0.1 for nginx on the same
# host): for requests from them, the audit log and login throttling take the client address
# from the last X-Forwarded-For entry (the one the proxy appended). Empty: REMOTE_ADDR only.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# --- Security ---------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Behind a TLS-terminating proxy, set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https (and
# make the proxy overwrite that header), or the redirect below loops.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = tuple(env.list("SECURE_PROXY_SSL_HEADER", default=[])) or None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Document and face images come from Didit's signed media URLs.
        "img-src": ["'self'", "data:", "https:", "http:"],
        "media-src": ["'self'", "https:", "http:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    },
}

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint narrates every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # django-axes narrates every successful login at INFO; lockouts stay at WARNING.
        "axes": {"level": "WARNING"},
    },
}
