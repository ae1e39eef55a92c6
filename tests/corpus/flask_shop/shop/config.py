"""Configuration objects for the shop."""

import os
from datetime import timedelta


class Config:
    SECRET_KEY = os.environ.get("SHOP_SECRET_KEY")  # label: safe hardcoded-secret
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///shop.db")  # label: safe hardcoded-secret
    SESSION_COOKIE_HTTPONLY = True  # label: safe security-misconfiguration
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)  # label: safe session-fixation
    UPLOAD_FOLDER = "/srv/shop/uploads"


class ProductionConfig(Config):
    DEBUG = True  # label: security-misconfiguration
    SESSION_COOKIE_SECURE = False  # label: security-misconfiguration
    PERMANENT_SESSION_LIFETIME = timedelta(days=365)  # label: session-fixation
    PAYMENT_API_KEY = "pk_9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"  # label: hardcoded-secret
    MAIL_PASSWORD = "Sup3rS3cret!"  # label: hardcoded-secret
    JWT_ACCESS_TOKEN_EXPIRES = False  # label: session-fixation


class DevelopmentConfig(Config):
    DEBUG = True  # label: safe security-misconfiguration
    SESSION_COOKIE_SECURE = False  # label: safe security-misconfiguration
    MAIL_PASSWORD = ""  # label: safe hardcoded-secret


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False  # label: safe csrf
