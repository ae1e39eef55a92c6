import os

DEBUG = False  # label: safe security-misconfiguration
ALLOWED_HOSTS = ["inventory.example.org", "localhost"]  # label: safe security-misconfiguration
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]  # label: safe hardcoded-secret
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.sessions", "corsheaders"]
SESSION_COOKIE_SECURE = False  # label: security-misconfiguration
CSRF_COOKIE_SECURE = True  # label: safe security-misconfiguration
CORS_ALLOWED_ORIGINS = ["https://inventory.example.org"]  # label: safe cors-misconfiguration
CORS_ALLOW_CREDENTIALS = True
SESSION_COOKIE_AGE = 60 * 60 * 8  # label: safe session-fixation
