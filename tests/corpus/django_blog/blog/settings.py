"""Settings of the blog (production)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-insecure-7x#m2$kq9v!w3z@p8r5t^y6u1i0o4e_a+s=d"  # label: hardcoded-secret

DEBUG = True  # label: security-misconfiguration

ALLOWED_HOSTS = ["*"]  # label: security-misconfiguration

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "corsheaders",
    "blog",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "blog.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "blog",
        "USER": "blog",
        "PASSWORD": "bl0g-pr0d-2024!",  # label: hardcoded-secret
        "HOST": "db.internal",
    },
    "replica": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "blog",
        "USER": "blog_ro",
        "PASSWORD": os.environ.get("REPLICA_DB_PASSWORD", ""),  # label: safe hardcoded-secret
        "HOST": "replica.internal",
    },
}

PASSWORD_HASHERS = [  # label: broken-auth
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = []  # label: broken-auth

SESSION_COOKIE_AGE = 60 * 60 * 24 * 365  # label: session-fixation
SESSION_COOKIE_HTTPONLY = False  # label: security-misconfiguration
SESSION_COOKIE_SECURE = True  # label: safe security-misconfiguration
CSRF_COOKIE_SECURE = True  # label: safe security-misconfiguration

CORS_ALLOW_ALL_ORIGINS = True  # label: cors-misconfiguration
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOWED_ORIGIN_REGEXES = [r"^.*$"]  # label: cors-misconfiguration

EMAIL_HOST = "smtp.example.com"
EMAIL_HOST_USER = "blog@example.com"
EMAIL_HOST_PASSWORD = os.environ["EMAIL_HOST_PASSWORD"]  # label: safe hardcoded-secret
PASSWORD_RESET_TIMEOUT = 3600  # label: safe hardcoded-secret

AVATAR_ROOT = BASE_DIR / "avatars"
EXPORT_ROOT = "/srv/blog/exports"
