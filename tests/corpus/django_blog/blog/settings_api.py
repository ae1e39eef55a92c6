"""Settings for the public read-only API deployment."""

from blog.settings import *  # noqa: F403

DEBUG = False  # label: safe security-misconfiguration
ALLOWED_HOSTS = ["api.blog.example.com"]  # label: safe security-misconfiguration
CORS_ALLOW_ALL_ORIGINS = True  # label: safe cors-misconfiguration
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOWED_ORIGIN_REGEXES = [r"^https://\w+\.example\.com$"]  # label: safe cors-misconfiguration
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14  # label: safe session-fixation
PASSWORD_HASHERS = [  # label: safe broken-auth
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]
