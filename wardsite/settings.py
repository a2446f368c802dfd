"""WARD FLUX settings, read from the environment (see docs/configuration.md)."""
from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from wardsite.env import env_bool, env_choice, env_fernet_keys, env_int, env_list, env_str, env_url, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("WARDFLUX_VAR_DIR", str(BASE_DIR / "var")))
# `make run` keeps its generated keys and what it started (ports, Redis database) here, so every `manage.py`
# command in the checkout talks to that instance. Variables set in the environment win; without the files
# (production) nothing is assumed and the keys below are still required.
load_env_file(VAR_DIR / "secrets.env")
load_env_file(VAR_DIR / "instance.env")

DEBUG = env_bool("DEBUG", False)

# Development-only fallbacks: used solely with DEBUG=1, never in production.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
_DEV_FERNET_KEY = "ZGV2LW9ubHktaW5zZWN1cmUtZmVybmV0LWtleS0wMDA="  # base64 of "dev-only-insecure-fernet-key-000"

SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is not set (required unless DEBUG=1)")

# Fernet keys for secrets stored in the database: the first encrypts, every key decrypts,
# so a new key is put first and `manage.py rotate_secrets` re-encrypts everything with it.
FERNET_KEYS = env_fernet_keys("FERNET_KEYS") or ([_DEV_FERNET_KEY] if DEBUG else [])
if not FERNET_KEYS:
    raise ImproperlyConfigured("FERNET_KEYS is not set (required unless DEBUG=1)")

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
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files, not a CDN
    "django_celery_beat",
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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL={_db_url!r} is not a valid database URL: {exc}") from None
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
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "wardsite.api.Pagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "wardsite.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WARD FLUX API",
    "DESCRIPTION": "Network monitoring: devices, ICMP/SNMP collection, alerts, discovery, Zabbix bridge.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Redis, Celery -----------------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "unix"))
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a killed worker's batch is delivered again; collection is idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE

# --- VictoriaMetrics ---------------------------------------------------------------------------
VICTORIA_URL = env_url("VICTORIA_URL", "http://127.0.0.1:8428", schemes=("http", "https"))
VICTORIA_TIMEOUT = env_int("VICTORIA_TIMEOUT", 10, minimum=1)
# Writes that fail after retries are kept in this Redis list and replayed when VictoriaMetrics is back.
VICTORIA_SPOOL_KEY = env_str("VICTORIA_SPOOL_KEY", "wardflux:victoria:spool")

# A device added with only an address is named by its reverse DNS name (else by the address).
DEVICE_NAME_FROM_DNS = env_bool("DEVICE_NAME_FROM_DNS", True)
# --- ICMP monitoring defaults (overridable per device or group in the admin) -------------------
ICMP_INTERVAL_SECONDS = env_int("ICMP_INTERVAL_SECONDS", 10, minimum=1)
ICMP_PACKETS = env_int("ICMP_PACKETS", 3, minimum=1, maximum=100)
ICMP_PACKET_INTERVAL_MS = env_int("ICMP_PACKET_INTERVAL_MS", 200, minimum=1)
ICMP_TIMEOUT_MS = env_int("ICMP_TIMEOUT_MS", 1000, minimum=10)
ICMP_DOWN_AFTER = env_int("ICMP_DOWN_AFTER", 3, minimum=1)
ICMP_RETRY_SECONDS = env_int("ICMP_RETRY_SECONDS", 2, minimum=1)  # after a failed cycle, until down
ICMP_BATCH_SIZE = env_int("ICMP_BATCH_SIZE", 500, minimum=1)
ICMP_DISPATCH_SECONDS = env_int("ICMP_DISPATCH_SECONDS", 1, minimum=1)
# --- SNMP polling -------------------------------------------------------------------------------
SNMP_INTERFACE_INTERVAL_SECONDS = env_int("SNMP_INTERFACE_INTERVAL_SECONDS", 60, minimum=1)
SNMP_INTERFACE_REFRESH_SECONDS = env_int("SNMP_INTERFACE_REFRESH_SECONDS", 3600, minimum=60)
SNMP_BACKOFF_MAX_SECONDS = env_int("SNMP_BACKOFF_MAX_SECONDS", 900, minimum=1)
SNMP_DOWN_AFTER = env_int("SNMP_DOWN_AFTER", 3, minimum=1)
SNMP_BATCH_SIZE = env_int("SNMP_BATCH_SIZE", 200, minimum=1)
SNMP_CONCURRENCY = env_int("SNMP_CONCURRENCY", 200, minimum=1)
SNMP_DISPATCH_SECONDS = env_int("SNMP_DISPATCH_SECONDS", 5, minimum=1)
# --- Alerting ------------------------------------------------------------------------------------
ALERT_EVALUATION_SECONDS = env_int("ALERT_EVALUATION_SECONDS", 10, minimum=1, maximum=60)
# A device back up for less than this still suppresses its (and its dependants') alerts while collectors catch up.
ALERT_RECOVERY_GRACE_SECONDS = env_int("ALERT_RECOVERY_GRACE_SECONDS", 60, minimum=0)
# Flapping: this many state changes within the window marks a device as flapping.
FLAP_WINDOW_MINUTES = env_int("FLAP_WINDOW_MINUTES", 30, minimum=1)
FLAP_THRESHOLD = env_int("FLAP_THRESHOLD", 4, minimum=2)
# --- Discovery -----------------------------------------------------------------------------------
# Networks scans may touch (more in the admin); anything else is refused. Default: the private ranges.
DISCOVERY_PRIVATE_NETWORKS = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"  # the default (the setup checklist reads it)
DISCOVERY_ALLOWED_NETWORKS = env_str("DISCOVERY_ALLOWED_NETWORKS", DISCOVERY_PRIVATE_NETWORKS)
DISCOVERY_MAX_ADDRESSES = env_int("DISCOVERY_MAX_ADDRESSES", 65536, minimum=1)  # a /16 per scan
DISCOVERY_RATE_LIMIT = env_int("DISCOVERY_RATE_LIMIT", 1000, minimum=1)  # default packets per second of a rule
DISCOVERY_REVERSE_DNS = env_bool("DISCOVERY_REVERSE_DNS", True)  # name found hosts by their PTR records
DISCOVERY_CLASSIFIER_FILE = env_str("DISCOVERY_CLASSIFIER_FILE", "")  # your classification rules, tried first
# --- Zabbix bridge -------------------------------------------------------------------------------
# How often a new Zabbix server is synced (then editable per server in Periodic tasks).
ZABBIX_SYNC_SECONDS = env_int("ZABBIX_SYNC_SECONDS", 60, minimum=5)

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

# Set both to 1 when the web app is served over HTTPS.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
