"""WARD FLUX settings, read from the environment (see docs/configuration.md)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from wardsite.env import (
    env_bool, env_choice, env_duration, env_fernet_keys, env_int, env_list, env_networks, env_proxy_ssl_header,
    env_rate, env_str, env_url, load_env_file, redis_url_next_db)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("WARDFLUX_VAR_DIR", str(BASE_DIR / "var")))
# `make run` keeps its generated keys and what it started (ports, Redis database) here, so every `manage.py`
# command in the checkout talks to that instance. Variables set in the environment win; without the files
# (production) nothing is assumed and the keys below are still required.
load_env_file(VAR_DIR / "secrets.env")
load_env_file(VAR_DIR / "instance.env")

DEBUG = env_bool("DEBUG", False)

# Development-only fallbacks: used solely with DEBUG=1. In production they are refused as SECRET_KEY and as the
# encrypting Fernet key, and `check`/`migrate` refuse secrets still encrypted with it (wardsite/checks.py).
DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
DEV_FERNET_KEY = "ZGV2LW9ubHktaW5zZWN1cmUtZmVybmV0LWtleS0wMDA="  # base64 of "dev-only-insecure-fernet-key-000"

SECRET_KEY = env_str("SECRET_KEY") or (DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is not set (required unless DEBUG=1)")
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is the development key from wardsite/settings.py: set a random one")

# Fernet keys for secrets stored in the database: the first encrypts, every key decrypts,
# so a new key is put first and `manage.py rotate_secrets` re-encrypts everything with it.
FERNET_KEYS = env_fernet_keys("FERNET_KEYS") or ([DEV_FERNET_KEY] if DEBUG else [])
if not FERNET_KEYS:
    raise ImproperlyConfigured("FERNET_KEYS is not set (required unless DEBUG=1)")
if not DEBUG and FERNET_KEYS[0] == DEV_FERNET_KEY:
    raise ImproperlyConfigured("FERNET_KEYS: the first key (the one that encrypts) is the development key from "
                               "wardsite/settings.py: put a key of your own first (docs/configuration.md)")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens: hashed at rest, expiring, revocable one by one (docs/api.md)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files, not a CDN
    "django_celery_beat",
    "auditlog",  # before wardsite: wardsite/admin.py replaces its log entry admin
    "wardsite",
    "devices",
    "snmp",
    "icmp",
    "alerts",
    "discovery",
    "templates_app",
    "zabbix_bridge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wardsite.request_size.RequestSizeLimitMiddleware",  # 413 for a body past DATA_UPLOAD_MAX_MEMORY_SIZE
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "wardsite.audit.AuditMiddleware",  # who and from where, for the audit trail (docs/audit.md)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Request size (docs/configuration.md): a body past this is a 413 (the largest Zabbix template export we know is
# ~120 kB); form posts (the admin) hold at most this many fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("DATA_UPLOAD_MAX_NUMBER_FIELDS", 1000, minimum=100)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=0)

ROOT_URLCONF = "wardsite.urls"
WSGI_APPLICATION = "wardsite.wsgi.application"

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
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'wardflux.sqlite3'}"
_db_url = env_str("DATABASE_URL") or _default_db
try:
    # conn_health_checks: a persistent connection is checked before its first use in each request or task, so a
    # database restart or failover costs no failed request (tests/test_postgres_restart.py)
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
                                                  conn_health_checks=True)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL={_db_url!r} is not a valid database URL: {exc}") from None
# behind pgbouncer in transaction mode a server-side cursor (QuerySet.iterator()) would outlive its transaction
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # web, worker and beat write concurrently: WAL readers never block, writers wait instead of failing
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "wardsite.api_tokens.TokenAuthentication",  # knox's, without a sweep of all the user's tokens per request
    ],
    "DEFAULT_PERMISSION_CLASSES": ["wardsite.permissions.ModelPermissions"],  # GET needs view_<model>
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "wardsite.api.Pagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "wardsite.api.exception_handler",
    # Requests per user (per client address when anonymous), counted in Redis so every web worker shares them.
    # The routes of a scope (login, scan, poll: wardsite/throttles.py SCOPES) are limited by its rate too.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "wardsite.throttles.ScopedThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", "60/min"),
        "user": env_rate("API_THROTTLE_USER", "2000/min"),
        "login": env_rate("API_THROTTLE_LOGIN", "10/min"),
        "scan": env_rate("API_THROTTLE_SCAN", "10/hour"),
        "poll": env_rate("API_THROTTLE_POLL", "60/min"),
    },
    # Proxies in front of the app: 0 takes the client address from the connection, never from X-Forwarded-For
    # (which a client could forge to escape the anonymous and login limits); 1 behind one reverse proxy.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0, minimum=0),
}
# API tokens (`Authorization: Token <key>`): a new one lasts API_TOKEN_TTL unless its creator says otherwise.
API_TOKEN_TTL = env_duration("API_TOKEN_TTL", "365d")  # seconds, None: never expires
REST_KNOX = {
    "TOKEN_TTL": None if API_TOKEN_TTL is None else timedelta(seconds=API_TOKEN_TTL),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,  # a token's expiry is fixed when it is made: using it does not extend it
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WARD FLUX API",
    "DESCRIPTION": "Network monitoring: devices, ICMP/SNMP collection, alerts, discovery, Zabbix bridge.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # one name per choice set shared by several fields (else `check --deploy` warns and names them by hash)
    "ENUM_NAME_OVERRIDES": {
        "IfStatusEnum": "snmp.choices.IfStatus",
        "DeviceStateEnum": "devices.choices.DeviceState",
        "RunStateEnum": "discovery.choices.RunState",
    },
}

# --- Redis, Celery -----------------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "unix"))
CELERY_BROKER_URL = REDIS_URL
# Django's cache (the API throttle counters) lives in Redis: shared by all web workers, unlike a per-process one.
CACHES = {"default": {"BACKEND": "wardsite.cache.RedisCache", "LOCATION": REDIS_URL,
                      "KEY_PREFIX": "wardflux:cache"}}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a killed worker's batch is delivered again; collection is idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes every database connection before and after each task unless told to reuse them:
# a PostgreSQL connection (and server process) per task. Its closing is off; wardsite.celery closes them as Django
# does after a request instead: past CONN_MAX_AGE, or broken (and CONN_HEALTH_CHECKS checks them per task).
CELERY_DB_REUSE_MAX = 2**62
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
# One queue per kind of work (docs/architecture.md, "Queues and workers"): exact names before patterns.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    # the dispatchers must never wait behind the batches they hand out (in their collector's queue they did)
    "icmp.dispatch": {"queue": "dispatch"},
    "snmp.dispatch": {"queue": "dispatch"},
    "alerts.deliver": {"queue": "notifications"},
    "alerts.*": {"queue": "alerts"},
    "icmp.*": {"queue": "icmp"},
    "snmp.*": {"queue": "snmp"},
    "discovery.*": {"queue": "discovery"},
    "zabbix.*": {"queue": "zabbix"},
}
# Hard time limit per queue in seconds (the worker kills the task); the soft limit (an exception in the task, so it
# can record what it has) is 90 % of it. wardsite/celery.py applies them to every task by its route.
TASK_TIME_LIMITS = {
    queue: env_int(f"{queue.upper()}_TASK_TIME_LIMIT", default, minimum=2)
    for queue, default in (("celery", 600), ("dispatch", 60), ("icmp", 60), ("snmp", 240), ("alerts", 120), ("notifications", 90),
                           ("discovery", 7200), ("zabbix", 600))
}
# A worker started without -Q consumes all of these; `-Q icmp,snmp` picks (a group's poller_queue is made on use).
CELERY_TASK_QUEUES = [Queue(queue, routing_key=queue) for queue in TASK_TIME_LIMITS]
# A device still unanswered this long after its batch began is marked "not polled: batch deadline"; the rest of
# the batch is kept (below the soft limits, so the batch has time to record).
ICMP_BATCH_DEADLINE_SECONDS = env_int("ICMP_BATCH_DEADLINE_SECONDS", 30, minimum=1)
SNMP_BATCH_DEADLINE_SECONDS = env_int("SNMP_BATCH_DEADLINE_SECONDS", 150, minimum=1)
# A message taken but not acknowledged (its worker died) is handed out again after this long: longer than the
# longest task that acknowledges late (a shorter one runs a slow task twice), and than any retry countdown.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 900, minimum=1)
# Workers look for such messages every unacked_restore_interval seconds (kombu's default looks every ~100 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT, "unacked_restore_throttle": 1,
                                   "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 3))}
# A notification being sent by a worker that went silent this long is sent again (at least once, docs/alerts.md).
DELIVERY_CLAIM_TIMEOUT_SECONDS = env_int("DELIVERY_CLAIM_TIMEOUT_SECONDS", 300, minimum=1)
QUEUE_CHECK_SECONDS = env_int("QUEUE_CHECK_SECONDS", 60, minimum=5)  # how often a queue without workers is looked for

# --- VictoriaMetrics ---------------------------------------------------------------------------
VICTORIA_URL = env_url("VICTORIA_URL", "http://127.0.0.1:8428", schemes=("http", "https"))
# A cluster or vmagent in front (docs/deploy.md): writes to VICTORIA_WRITE_URL (vminsert's .../insert/0/prometheus,
# or vmagent), queries to VICTORIA_READ_URL (vmselect's .../select/0/prometheus); blank: VICTORIA_URL.
VICTORIA_WRITE_URL = env_url("VICTORIA_WRITE_URL", "", schemes=("http", "https"), blank_ok=True)
VICTORIA_READ_URL = env_url("VICTORIA_READ_URL", "", schemes=("http", "https"), blank_ok=True)
VICTORIA_TIMEOUT = env_int("VICTORIA_TIMEOUT", 10, minimum=1)  # queries
VICTORIA_WRITE_TIMEOUT = env_int("VICTORIA_WRITE_TIMEOUT", 2, minimum=1)  # writes: not retried, spooled at once
# After a failed or slow write every process spools without trying VictoriaMetrics for this long.
VICTORIA_BREAKER_SECONDS = env_int("VICTORIA_BREAKER_SECONDS", 30, minimum=1)
# Writes VictoriaMetrics did not take are kept in this Redis list, in a database apart from the broker's,
# capped in bytes (the oldest dropped first), and replayed when VictoriaMetrics is back.
VICTORIA_SPOOL_URL = env_url("VICTORIA_SPOOL_URL", redis_url_next_db(REDIS_URL), schemes=("redis", "rediss"))
VICTORIA_SPOOL_KEY = env_str("VICTORIA_SPOOL_KEY", "wardflux:victoria:spool")
VICTORIA_SPOOL_MAX_BYTES = env_int("VICTORIA_SPOOL_MAX_BYTES", 256 * 2**20, minimum=2**20)
VICTORIA_DEAD_LETTER_MAX_CHUNKS = env_int("VICTORIA_DEAD_LETTER_MAX_CHUNKS", 20, minimum=1)

# A device added with only an address is named by its reverse DNS name (else by the address).
DEVICE_NAME_FROM_DNS = env_bool("DEVICE_NAME_FROM_DNS", True)
# --- ICMP monitoring defaults (overridable per device or group in the admin) -------------------
ICMP_INTERVAL_SECONDS = env_int("ICMP_INTERVAL_SECONDS", 10, minimum=1)
ICMP_PACKETS = env_int("ICMP_PACKETS", 3, minimum=1, maximum=100)
ICMP_PACKET_INTERVAL_MS = env_int("ICMP_PACKET_INTERVAL_MS", 200, minimum=1)
ICMP_TIMEOUT_MS = env_int("ICMP_TIMEOUT_MS", 1000, minimum=10)
ICMP_DOWN_AFTER = env_int("ICMP_DOWN_AFTER", 3, minimum=1)
ICMP_RETRY_SECONDS = env_int("ICMP_RETRY_SECONDS", 2, minimum=1)  # a failed cycle start to the next, until down
ICMP_BATCH_SIZE = env_int("ICMP_BATCH_SIZE", 500, minimum=1)
ICMP_DISPATCH_SECONDS = env_int("ICMP_DISPATCH_SECONDS", 1, minimum=1)
# --- SNMP polling -------------------------------------------------------------------------------
SNMP_INTERFACE_INTERVAL_SECONDS = env_int("SNMP_INTERFACE_INTERVAL_SECONDS", 60, minimum=1)
SNMP_INTERFACE_REFRESH_SECONDS = env_int("SNMP_INTERFACE_REFRESH_SECONDS", 3600, minimum=60)
SNMP_BACKOFF_MAX_SECONDS = env_int("SNMP_BACKOFF_MAX_SECONDS", 900, minimum=1)
SNMP_DOWN_AFTER = env_int("SNMP_DOWN_AFTER", 3, minimum=1)
SNMP_BATCH_SIZE = env_int("SNMP_BATCH_SIZE", 200, minimum=1)
SNMP_CONCURRENCY = env_int("SNMP_CONCURRENCY", 200, minimum=1)
SNMP_DISPATCH_SECONDS = env_int("SNMP_DISPATCH_SECONDS", 1, minimum=1)
# --- Alerting ------------------------------------------------------------------------------------
ALERT_EVALUATION_SECONDS = env_int("ALERT_EVALUATION_SECONDS", 10, minimum=1, maximum=60)
# A device back up for less than this still suppresses its (and its dependants') alerts while collectors catch up.
ALERT_RECOVERY_GRACE_SECONDS = env_int("ALERT_RECOVERY_GRACE_SECONDS", 60, minimum=0)
# Flapping: this many state changes within the window marks a device as flapping.
FLAP_WINDOW_MINUTES = env_int("FLAP_WINDOW_MINUTES", 30, minimum=1)
FLAP_THRESHOLD = env_int("FLAP_THRESHOLD", 4, minimum=2)
# Notification targets (webhook URLs, SMTP hosts) may be private, loopback... addresses only inside these networks
# (wardsite/outbound.py); public addresses are always allowed. E.g. 127.0.0.1 for a local mail server.
OUTBOUND_ALLOWED_NETWORKS = env_networks("OUTBOUND_ALLOWED_NETWORKS")
# --- Discovery -----------------------------------------------------------------------------------
# Networks scans may touch (more in the admin); anything else is refused. Default: the private ranges.
DISCOVERY_PRIVATE_NETWORKS = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"  # the default (the setup checklist reads it)
DISCOVERY_ALLOWED_NETWORKS = env_str("DISCOVERY_ALLOWED_NETWORKS", DISCOVERY_PRIVATE_NETWORKS)
DISCOVERY_MAX_ADDRESSES = env_int("DISCOVERY_MAX_ADDRESSES", 65536, minimum=1)  # a /16 per scan
DISCOVERY_MAX_RATE = env_int("DISCOVERY_MAX_RATE", 5000, minimum=1)  # packets per second, any scan
# packets per second of an ad-hoc scan, and a new rule's default
DISCOVERY_RATE_LIMIT = env_int("DISCOVERY_RATE_LIMIT", 1000, minimum=1, maximum=DISCOVERY_MAX_RATE)
DISCOVERY_MAX_TCP_PORTS = env_int("DISCOVERY_MAX_TCP_PORTS", 64, minimum=1, maximum=65535)  # per rule
# Scans queued or running at once (a run older than DISCOVERY_RUN_STALE_MINUTES is taken for dead: not counted).
DISCOVERY_MAX_SCANS = env_int("DISCOVERY_MAX_SCANS", 4, minimum=1)
DISCOVERY_MAX_SCANS_PER_USER = env_int("DISCOVERY_MAX_SCANS_PER_USER", 2, minimum=1)
DISCOVERY_RUN_STALE_MINUTES = env_int("DISCOVERY_RUN_STALE_MINUTES", 360, minimum=1)
# A rule's schedule may not run it more often than this (a day at most).
DISCOVERY_MIN_SCHEDULE_MINUTES = env_int("DISCOVERY_MIN_SCHEDULE_MINUTES", 60, minimum=1, maximum=1440)
DISCOVERY_REVERSE_DNS = env_bool("DISCOVERY_REVERSE_DNS", True)  # name found hosts by their PTR records
DISCOVERY_CLASSIFIER_FILE = env_str("DISCOVERY_CLASSIFIER_FILE", "")  # your classification rules, tried first
# --- Zabbix bridge -------------------------------------------------------------------------------
# How often a new Zabbix server is synced (then editable per server in Periodic tasks).
ZABBIX_SYNC_SECONDS = env_int("ZABBIX_SYNC_SECONDS", 60, minimum=5)

# --- Audit trail (docs/audit.md) --------------------------------------------------------------------
# Entries older than this many days are deleted by a daily job; 0 keeps them forever.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365, minimum=0)
AUDITLOG_STORE_JSON_CHANGES = True  # before/after as JSON values (numbers, lists), not their str()
AUDITLOG_DISABLE_ON_RAW_SAVE = True  # fixtures loaded by loaddata are not changes someone made
AUDITLOG_MASK_CALLABLE = "wardsite.audit.redact"  # secrets: never a part of them (the library's default shows half)

# --- Health, self-metrics, retention (docs/operations.md) ------------------------------------------
HEALTH_TIMEOUT_SECONDS = env_int("HEALTH_TIMEOUT_SECONDS", 2, minimum=1)  # per check of /healthz
# A watched loop (beat, a collection cycle, alert evaluation) silent this long (or 3 of its intervals) is unhealthy.
HEALTH_STALE_SECONDS = env_int("HEALTH_STALE_SECONDS", 60, minimum=1)
# The admin index's dashboard panels refresh in place this often (wardsite/dashboard.py).
DASHBOARD_REFRESH_SECONDS = env_int("DASHBOARD_REFRESH_SECONDS", 30, minimum=5)
METRICS_TOKEN = env_str("METRICS_TOKEN")  # Authorization: Bearer <token> for /metrics; empty: logged-in staff only
# How far back people look at series: VictoriaMetrics' -retentionPeriod must keep at least this (checked by migrate).
HISTORY_DAYS = env_int("HISTORY_DAYS", 365, minimum=1)
# Rows older than this many days are deleted by a daily job; 0 keeps them forever.
RETENTION_DELIVERIES_DAYS = env_int("RETENTION_DELIVERIES_DAYS", 90, minimum=0)
RETENTION_RESOLVED_ALERTS_DAYS = env_int("RETENTION_RESOLVED_ALERTS_DAYS", 365, minimum=0)
RETENTION_DISCOVERY_DAYS = env_int("RETENTION_DISCOVERY_DAYS", 30, minimum=0)
RETENTION_STATE_CHANGES_DAYS = env_int("RETENTION_STATE_CHANGES_DAYS", 365, minimum=0)

# INFO tells an operator what matters (starts, errors, state changes, alerts and their deliveries); the
# per-task and per-schedule lines ("Task ... received/succeeded", "Sending due task") come only with DEBUG.
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
_TASK_CHATTER = ("celery.app.trace", "celery.worker.strategy", "celery.beat")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {name: {"level": "DEBUG" if LOG_LEVEL == "DEBUG" else "WARNING"} for name in _TASK_CHATTER},
}

# --- HTTPS (docs/configuration.md "Production") ------------------------------------------------
# Production is served over HTTPS only, by gunicorn behind a TLS proxy: plain HTTP is redirected, cookies are sent
# only over HTTPS, browsers are told to come back only over HTTPS (HSTS). HTTPS_ONLY=0 is for a plain-HTTP lab;
# `make run` and the test suite set it (they serve http://127.0.0.1). Each setting below can be set on its own.
HTTPS_ONLY = env_bool("HTTPS_ONLY", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS_ONLY)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a load balancer may check the app over plain HTTP (no secret in it)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS_ONLY)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS_ONLY)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS_ONLY else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# The request came in over HTTPS when the proxy says so in this header (e.g. X-Forwarded-Proto: https). Set it
# only when every request passes that proxy, which must overwrite the header: a client could send it too.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
# Preloading is asked for by the registrable domain as a whole (all its sites), not by one monitoring host:
# opt-in with SECURE_HSTS_PRELOAD=1, and `check --deploy` does not ask for it until then.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
