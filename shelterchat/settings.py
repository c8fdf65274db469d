"""Settings for ShelterChat, every one read from the environment.

``DATABASE_URL`` (PostgreSQL) is always required; ``bin/demo`` sets it to its
embedded server. Other unset variables fall back to the single-process demo's
values (the in-memory channel layer, a demo key); production sets
``REDIS_URL``, ``SECRET_KEY`` and ``PLATFORM_DOMAIN`` too.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="demo-only-insecure-key-set-SECRET_KEY-in-production")
# Served over HTTPS everywhere but the local demo and the test servers.
HTTPS = env.bool("HTTPS", default=True)

# The operator console's host; organizations live on their own hostnames,
# e.g. <slug>.<PLATFORM_DOMAIN>. The tenancy middleware refuses unknown hosts.
PLATFORM_DOMAIN = env.str("PLATFORM_DOMAIN", default="localhost")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_otp",
    "policies",
    "accounts",
    "conversations",
    "groups",
    "shelterchat",
]

MIDDLEWARE = [
    "policies.middleware.ClientIdentityStripMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "shelterchat.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.TenantMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.OrganizationLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.SessionHostMiddleware",
    "accounts.middleware.PersonMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.StaffSessionExpiryMiddleware",
    "shelterchat.middleware.SurvivorMethodNotAllowedMiddleware",
]
CSRF_FAILURE_VIEW = "shelterchat.views.csrf_failure"

ROOT_URLCONF = "shelterchat.urls"
PLATFORM_URLCONF = "shelterchat.urls_platform"
ASGI_APPLICATION = "shelterchat.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.organization",
            ],
        },
    },
]

# PostgreSQL everywhere, the demo included (bin/demo sets its own embedded server's URL).
DATABASES = {"default": env.db("DATABASE_URL")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://…).")
# The backend that keeps each query's organization in line for row-level security.
DATABASES["default"]["ENGINE"] = "policies.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Redis publish/subscribe: an event is one PUBLISH and arrives on a socket the
    # process keeps reading, where the list-based layer spends four round trips to
    # send and four more, one message at a time, to receive. Both deliver at most
    # once; clients fill gaps from the database by sequence number.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # No read or write timeout: redis-py sends writes under wait_for
                        # when one is set, and on Python 3.11 that can swallow the
                        # cancellation of a closing consumer. Keepalive finds dead peers.
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                    }
                ],
                "prefix": env.str("REDIS_PREFIX", default="shelterchat"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OTP_TOTP_ISSUER = "ShelterChat"

# django_session through the owner's functions only: the application role
# cannot read the table (policies.sessions).
SESSION_ENGINE = "policies.sessions"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_HTTPONLY = True
# Gone when the browser closes, as the session is: a survivor's forms leave no
# year-long cookie behind.
CSRF_COOKIE_AGE = None
CSRF_COOKIE_SAMESITE = "Strict"
LANGUAGE_COOKIE_SAMESITE = "Strict"
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True

SECURE_SSL_REDIRECT = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = 63072000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
# Nothing to other sites; our own origin to us, or Chromium posts forms with
# "Origin: null" and the CSRF check refuses them.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Applied to every response by shelterchat.middleware; shelterchat.checks
# refuses a policy without script-src 'self' or with inline or foreign script.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), interest-cohort=()"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Error reports by e-mail would carry request headers (addresses, user
# agents) out of the platform: there are no admins to mail.
ADMINS = []
MANAGERS = []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "strip_client_identity": {"()": "policies.logging.ClientIdentityFilter"},
        "disallowed_host": {"()": "policies.logging.DisallowedHostFilter"},
    },
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name} {message}", "style": "{"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["strip_client_identity"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # daphne's access and connection messages name the client address.
        "daphne": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.security.DisallowedHost": {"filters": ["disallowed_host"]},
    },
}

# Retention windows in days: the platform's maximum for each kind of data.
# Organizations choose shorter windows; policies.retention enforces both.
RETENTION_MAXIMUM_DAYS = {
    "audit_log": env.int("RETENTION_MAX_AUDIT_LOG_DAYS", default=365),
    "consent_records": env.int("RETENTION_MAX_CONSENT_RECORDS_DAYS", default=365),
    "forum_posts": env.int("RETENTION_MAX_FORUM_POSTS_DAYS", default=365),
    "forum_groups_ended": env.int("RETENTION_MAX_FORUM_GROUPS_ENDED_DAYS", default=365),
    "forum_members_ended": env.int("RETENTION_MAX_FORUM_MEMBERS_ENDED_DAYS", default=90),
    "group_chat_attendance": env.int("RETENTION_MAX_GROUP_CHAT_ATTENDANCE_DAYS", default=365),
}
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000)

# Key-encryption keys for content at rest (policies.crypto): "id:base64 of 32
# bytes", comma-separated, the current one first. Production must set its own.
DEMO_CONTENT_KEY = "demo:ZGVtby1vbmx5LWtleS1zZXQtQ09OVEVOVF9LRVlTISE"
CONTENT_KEYS = env.list("CONTENT_KEYS", default=[DEMO_CONTENT_KEY])
# Keys that seal staff TOTP secrets (accounts.models.AuthenticatorDevice), in the
# same form; kept apart from CONTENT_KEYS so that each can rotate on its own.
DEMO_OTP_SECRET_KEY = "demo:ZGVtby1vbmx5LWtleS1zZXQtT1RQX1NFQ1JFVF9LRVk"  # noqa: S105
OTP_SECRET_KEYS = env.list("OTP_SECRET_KEYS", default=[DEMO_OTP_SECRET_KEY])

STAFF_INVITATION_VALID_HOURS = env.int("STAFF_INVITATION_VALID_HOURS", default=72)

# Behind a reverse proxy, the header that carries the client's address (for
# example "x-forwarded-for"); it is read once, for the abuse-limit hash, and dropped.
PROXY_CLIENT_ADDRESS_HEADER = env.str("PROXY_CLIENT_ADDRESS_HEADER", default="").lower().encode()
CHAT_STARTS_PER_HOUR_PER_ADDRESS = env.int("CHAT_STARTS_PER_HOUR_PER_ADDRESS", default=30)
# How often each open staff console applies the silence and grace rules.
CHAT_SWEEP_SECONDS = env.int("CHAT_SWEEP_SECONDS", default=10)
# Past this wait for a database thread or for publishing an event, a process refuses
# new chat messages with "overloaded" (their clients send them again).
CHAT_MAX_WAIT_SECONDS = env.float("CHAT_MAX_WAIT_SECONDS", default=1.0)
# Mounts conversations.baseline, the bare relay bench/chat_relay.py compares with.
BENCHMARK_BASELINE = env.bool("BENCHMARK_BASELINE", default=False)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("REDIS_PREFIX", default="shelterchat"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# PostgreSQL row-level security (policies.tenancy). The application connects
# as DATABASE_APP_ROLE, which owns no table and is subject to the policies;
# migrations run as the owner of the tables. When the connecting user is the
# owner (a single-user setup, or the tests), DATABASE_SET_ROLE makes each
# connection switch to the application role after connecting.
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="shelterchat_app")
DATABASE_SET_ROLE = env.bool("DATABASE_SET_ROLE", default=False)
