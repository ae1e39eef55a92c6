"""Settings for a developer's machine (never deployed)."""

from blog.settings import *  # noqa: F403

DEBUG = True  # label: safe security-misconfiguration
ALLOWED_HOSTS = ["*"]  # label: safe security-misconfiguration
SESSION_COOKIE_HTTPONLY = False  # label: safe security-misconfiguration
SESSION_COOKIE_AGE = 60 * 60 * 24 * 365  # label: safe session-fixation
CORS_ALLOW_ALL_ORIGINS = True  # label: safe cors-misconfiguration
CORS_ALLOW_CREDENTIALS = True
