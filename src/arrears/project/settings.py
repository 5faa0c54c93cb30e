"""Django settings, all taken from environment variables with safe local defaults.

``DATABASE_URL`` selects the database (default: ``arrears.sqlite3`` in the data directory,
see :func:`data_dir`); PostgreSQL is ``postgresql://user@host:5432/dbname``. Nothing here
depends on the working directory: ``arrears explain`` run from any folder opens the same
database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import dj_database_url

from arrears.project.startup import check_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
#: The source checkout this package runs from (``src/arrears`` → the repository), if it is one.
CHECKOUT = BASE_DIR.parent.parent


def data_dir(environ: Mapping[str, str], checkout: Path | None) -> Path:
    """Where the SQLite file, the demo's import files and collected static files live.

    ``ARREARS_DATA_DIR`` when set; else ``var/`` of the source checkout the code runs from
    (``make demo`` and ``make test`` work there); else the per-user data directory
    (``$XDG_DATA_HOME/arrears``, by default ``~/.local/share/arrears``). Never the current
    directory, so a command gives the same answer wherever it is typed.
    """
    if environ.get("ARREARS_DATA_DIR"):
        return Path(environ["ARREARS_DATA_DIR"]).expanduser().resolve()
    if checkout is not None and (checkout / "pyproject.toml").is_file():
        return checkout / "var"
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser().resolve() / "arrears"


DATA_DIR = data_dir(os.environ, CHECKOUT if (CHECKOUT / "src" / "arrears") == BASE_DIR else None)


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes"}


DEBUG = _flag("ARREARS_DEBUG", True)
#: With ``ARREARS_DEBUG=0`` a weak key (empty, a development key, under 50 characters or under
#: 5 different ones: Django's ``security.W009`` rule) stops start-up with one line naming it.
SECRET_KEY = os.environ.get("ARREARS_SECRET_KEY", "") or "dev-only-insecure-key-change-me"
if not DEBUG:
    check_secret_key(os.environ.get("ARREARS_SECRET_KEY", ""))
ALLOWED_HOSTS = [
    h for h in os.environ.get("ARREARS_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "arrears.accounts.admin_config.ArrearsAdminConfig",  # django.contrib.admin, roles' door
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "arrears.ledger",
    "arrears.audit",
    "arrears.daily",
    "arrears.collections",
    "arrears.agencies",
    "arrears.notices",
    "arrears.contact",
    "arrears.verification",
    "arrears.fieldwork",
    "arrears.complaints",
    "arrears.legal",
    "arrears.quality",
    "arrears.portal",
    "arrears.demo",
    "arrears.web",
    "arrears.api",
    "arrears.reports",
    "axes",
    "arrears.accounts",
    "django_htmx",
]

MIDDLEWARE = [
    # first: a lost or refused database is a clean 503 (page or API JSON), never a traceback
    "arrears.web.unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "arrears.audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # a view's 404 is the friendly page with DEBUG on too (not Django's technical page)
    "arrears.web.middleware.FriendlyNotFoundMiddleware",
    # request.htmx: the workbench answers an HTMX request with a fragment, not the whole page
    "django_htmx.middleware.HtmxMiddleware",
    # last, as django-axes asks: turns a locked-out sign-in into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "arrears.project.urls"
WSGI_APPLICATION = "arrears.project.wsgi.application"

#: Forms and widgets render with Django's Jinja2 templates (the admin's with the Django template
#: language): see ``arrears.formrender``.
FORM_RENDERER = "arrears.formrender.FormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'arrears.sqlite3'}"),
        conn_max_age=int(os.environ.get("ARREARS_DB_CONN_MAX_AGE", "0")),
        # a persistent connection the server ended (restart, failover) is replaced at the
        # start of the next request instead of failing it
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = os.environ.get("ARREARS_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("ARREARS_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "arrears.ledger.masking.MaskPIIFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_pii"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("ARREARS_LOG_LEVEL", "INFO")},
}
#: Django's own handlers (the runserver access line, the debug console printing "Not Found"
#: paths) are masked too: this applies LOGGING, then puts MaskPIIFilter on every handler.
LOGGING_CONFIG = "arrears.ledger.masking.configure_logging"

#: Concessions above these amounts (minor units) need two approvers other than the maker
#: (``ARREARS_DUAL_APPROVAL_ABOVE='{"waiver": 100000, "plan": 500000}'``).
ARREARS_DUAL_APPROVAL_ABOVE: dict[str, int] = json.loads(
    os.environ.get("ARREARS_DUAL_APPROVAL_ABOVE", '{"waiver": 100000, "plan": 500000}')
)
#: Approval limits and the dual-approval threshold apply to the running total of a kind of
#: concession on a borrower's loans requested or approved in this many days (not per request).
ARREARS_CONCESSION_WINDOW_DAYS = int(os.environ.get("ARREARS_CONCESSION_WINDOW_DAYS", "30"))
if ARREARS_CONCESSION_WINDOW_DAYS < 1:
    raise RuntimeError("ARREARS_CONCESSION_WINDOW_DAYS must be at least 1 (days)")

#: The compliance pack every contact is checked against (``arrears.policy``: cn, us-regf, default).
ARREARS_POLICY_PACK = os.environ.get("ARREARS_POLICY_PACK", "cn")
#: What messages say about the lender, where to pay and where to complain, per template locale.
ARREARS_LENDER_NAME: dict[str, str] = json.loads(
    os.environ.get(
        "ARREARS_LENDER_NAME", '{"zh-CN": "演示消费金融", "en": "Demo Consumer Finance"}'
    )
)
ARREARS_REPAYMENT_CHANNELS: dict[str, str] = json.loads(
    os.environ.get(
        "ARREARS_REPAYMENT_CHANNELS",
        '{"zh-CN": "本公司官方App“还款”页面或官方客服热线95000", '
        '"en": "the Repay page of our official app or our hotline 95000"}',
    )
)
ARREARS_COMPLAINT_CHANNEL: dict[str, str] = json.loads(
    os.environ.get(
        "ARREARS_COMPLAINT_CHANNEL",
        '{"zh-CN": "投诉热线95000转9", "en": "our complaints line 95000 (option 9)"}',
    )
)
#: The law firm named in lawyer's letters (律师函), per template locale.
ARREARS_LAW_FIRM: dict[str, str] = json.loads(
    os.environ.get("ARREARS_LAW_FIRM", '{"zh-CN": "演示律师事务所", "en": "Demo Law LLP"}')
)

#: The address borrowers reach this system's public pages at: the verification QR code printed
#: on letters and authorisations points to ``<ARREARS_PUBLIC_URL>/verify/?code=…``.
ARREARS_PUBLIC_URL = os.environ.get("ARREARS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
#: Where lawyer's letter PDFs are kept (as issued; their SHA-256 is recorded); empty: the
#: ``legal`` folder of the data directory.
ARREARS_LEGAL_DIR = os.environ.get("ARREARS_LEGAL_DIR", "")
#: Days a lawyer's letter's verification code answers "valid" after the letter date.
ARREARS_LEGAL_LETTER_VALID_DAYS = int(os.environ.get("ARREARS_LEGAL_LETTER_VALID_DAYS", "365"))

#: Days after its due date a promise to pay still counts as kept (``ARREARS_PROMISE_GRACE_DAYS``,
#: default 0: a promise due 06-05 is kept by a payment on 06-05 and judged broken on 06-06).
ARREARS_PROMISE_GRACE_DAYS = int(os.environ.get("ARREARS_PROMISE_GRACE_DAYS", "0"))
#: How long a queued message stays worth sending: days after the day it was queued for, by
#: channel or ``channel:template`` (the more specific wins; a channel not listed: 0). A message
#: not sent by the end of that day (lender's time zone) is marked ``expired``, never sent.
ARREARS_MESSAGE_VALID_DAYS: dict[str, int] = json.loads(
    os.environ.get(
        "ARREARS_MESSAGE_VALID_DAYS",
        '{"sms": 0, "voice": 0, "email": 0, "in_app": 0, "letter": 14}',
    )
)
#: Field-visit eligibility (``arrears.fieldwork.eligibility``): keys over the defaults, e.g.
#: ``ARREARS_FIELD_VISIT_RULE='{"min_dpd": 120}'``; an unknown key is refused when checked.
ARREARS_FIELD_VISIT_RULE: dict[str, object] = json.loads(
    os.environ.get("ARREARS_FIELD_VISIT_RULE", "{}")
)
#: Complaint clocks in business days (``arrears.complaints``) and the calendar they count on.
ARREARS_COMPLAINT_SLA: dict[str, int] = json.loads(
    os.environ.get("ARREARS_COMPLAINT_SLA", '{"acknowledge_days": 1, "resolve_days": 15}')
)
ARREARS_COMPLAINT_CALENDAR = os.environ.get("ARREARS_COMPLAINT_CALENDAR", "cn")
#: Record every watched change in the audit chain (``arrears.audit``); on unless set to 0.
ARREARS_AUDIT = os.environ.get("ARREARS_AUDIT", "1") == "1"
#: Where visit authorisation letters are kept (empty: ``<data dir>/fieldwork/authorisations``).
ARREARS_FIELDWORK_DIR = os.environ.get("ARREARS_FIELDWORK_DIR", "")
#: Closing the first day after a month (``run-day``) writes that month's report pack in both
#: languages to ``<data dir>/reports/`` when it is not there yet (``reports.schedule``);
#: ``ARREARS_MONTHLY_PACK=0`` leaves the pack to ``arrears report pack``.
ARREARS_MONTHLY_PACK = _flag("ARREARS_MONTHLY_PACK", True)
#: The root of ``run-day --snapshot``/Spark outputs (a path) for books too large for the
#: database: the roll-rate report reads the month ends found there first (``reports.snapshots``).
ARREARS_REPORT_STATES = os.environ.get("ARREARS_REPORT_STATES", "")
#: The lender's official phone numbers, for the portal's "is this caller genuine?" check: a
#: JSON list of ``{"number", "en", "zh-CN"}`` (what each number is). An agency's official
#: number is its ``Agency.phone``.
ARREARS_OFFICIAL_NUMBERS: list[dict[str, str]] = json.loads(
    os.environ.get(
        "ARREARS_OFFICIAL_NUMBERS",
        '[{"number": "95000", "en": "customer service and collections hotline", '
        '"zh-CN": "官方客服及催收热线"}]',
    )
)
#: The plain statement the portal's notices page makes about credit reporting, per language.
ARREARS_CREDIT_REPORTING_NOTICE: dict[str, str] = json.loads(
    os.environ.get(
        "ARREARS_CREDIT_REPORTING_NOTICE",
        json.dumps(
            {
                "en": "If a payment is overdue, we may report it to the credit reference centre "
                "of the People's Bank of China, as your loan contract and the law allow. An "
                "overdue record can make it harder to borrow later. Once you have paid, the "
                "record shows that too. If you think a record is wrong, you can raise a dispute "
                "here.",
                "zh-CN": "如有逾期，我们可能依据借款合同及法律规定，将逾期信息报送中国人民银行"
                "征信中心。逾期记录可能影响您今后借款。还清后，记录也会如实更新。如认为记录有误，"
                "您可以在这里提出异议。",
            },
            ensure_ascii=False,
        ),
    )
)
#: The borrower portal (``docs/portal.md``): sign-in limits over ``portal.signin.DEFAULT_LIMITS``
#: (JSON), minutes a portal session or token may sit idle, days a payoff quote is valid, and the
#: bounds of what the portal may request or approve by itself (``portal.plans.DEFAULTS``).
ARREARS_PORTAL_SIGN_IN: dict[str, int] = json.loads(os.environ.get("ARREARS_PORTAL_SIGN_IN", "{}"))
ARREARS_PORTAL_IDLE_MINUTES = int(os.environ.get("ARREARS_PORTAL_IDLE_MINUTES", "15"))
ARREARS_PORTAL_QUOTE_DAYS = int(os.environ.get("ARREARS_PORTAL_QUOTE_DAYS", "7"))
ARREARS_PORTAL_PLANS: dict[str, int] = json.loads(os.environ.get("ARREARS_PORTAL_PLANS", "{}"))

# --- sign-in security (docs/security.md) ------------------------------------------------------

#: Argon2id first: new and changed passwords are hashed with it, and an old PBKDF2 hash is
#: upgraded at the user's next sign-in. Tests swap in a fast hasher (tests/conftest.py).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
#: The lockout check (django-axes) comes first, then Django's own user check.
AUTHENTICATION_BACKENDS = [
    "arrears.accounts.security.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
#: Staff sign-in throttling: after ``ARREARS_LOGIN_FAILURE_LIMIT`` failed sign-ins for one
#: username from one address, that pair is locked out for ``ARREARS_LOGIN_COOLOFF_MINUTES``.
#: Keyed by username *and* address, so a guesser cannot lock a colleague out from elsewhere.
AXES_ENABLED = _flag("ARREARS_LOGIN_LOCKOUT", True)
AXES_FAILURE_LIMIT = int(os.environ.get("ARREARS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ARREARS_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "arrears.accounts.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "arrears.accounts.network.client_ip"
AXES_DISABLE_ACCESS_LOG = True  # every sign-in is in the audit chain already
AXES_VERBOSE = False
#: Behind a reverse proxy you run (``ARREARS_TRUST_PROXY=1``): believe its ``X-Forwarded-For``
#: for the client address and its ``X-Forwarded-Proto`` for HTTPS. The two fine-grained switches
#: (``ARREARS_TRUST_X_FORWARDED_FOR``, ``ARREARS_BEHIND_TLS_PROXY``) default to it and, when set,
#: win over it. Off by default: without such a proxy a client could send the headers itself.
ARREARS_TRUST_PROXY = _flag("ARREARS_TRUST_PROXY", False)
ARREARS_TRUST_X_FORWARDED_FOR = _flag("ARREARS_TRUST_X_FORWARDED_FOR", ARREARS_TRUST_PROXY)

#: A session lasts ``ARREARS_SESSION_HOURS`` (with ``ARREARS_DEBUG=0`` by default a working
#: day, 9; in debug Django's two weeks, so a demo left overnight stays signed in) and ends with
#: the browser.
_SESSION_HOURS = os.environ.get("ARREARS_SESSION_HOURS") or ("" if DEBUG else "9")
if _SESSION_HOURS:
    SESSION_COOKIE_AGE = int(float(_SESSION_HOURS) * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    # Served over HTTPS: cookies never travel in clear, browsers remember to use HTTPS.
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("ARREARS_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("ARREARS_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = _flag("ARREARS_HSTS_PRELOAD", False)
    # http is redirected to https unless the operator says a proxy in front does it
    # (ARREARS_SSL_REDIRECT=0); that explicit choice also silences the deploy check's W008.
    SECURE_SSL_REDIRECT = _flag("ARREARS_SSL_REDIRECT", True)
    # HSTS for every subdomain, and the browsers' preload list (months to leave), commit the
    # whole registered domain, not just this site: the operator opts in, and `check --deploy`
    # does not warn while they are off (docs/security.md).
    SILENCED_SYSTEM_CHECKS = [
        check
        for check, chosen in (
            ("security.W005", SECURE_HSTS_INCLUDE_SUBDOMAINS),
            ("security.W008", SECURE_SSL_REDIRECT),
            ("security.W021", SECURE_HSTS_PRELOAD),
        )
        if not chosen
    ]
#: Behind a TLS-terminating proxy that sets ``X-Forwarded-Proto`` (``ARREARS_TRUST_PROXY=1`` or
#: ``ARREARS_BEHIND_TLS_PROXY=1``; opt in: a client could set the header itself otherwise).
if _flag("ARREARS_BEHIND_TLS_PROXY", ARREARS_TRUST_PROXY):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
#: django-axes logs every reset at INFO; its warnings (lockouts) are what an operator needs.
LOGGING["loggers"] = {"axes": {"level": "WARNING"}}
