"""Django settings for djsite."""

DEBUG = True
SECRET_KEY = "django-insecure-0x!t7#b2$k9@qz8w1m4v6p3r5y"
ALLOWED_HOSTS = ["*"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = True
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "djsite",
        "USER": "djsite",
        "PASSWORD": "hunter2-prod-db",
    }
}
