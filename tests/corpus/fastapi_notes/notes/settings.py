"""Runtime settings of the notes service."""

import os

DATABASE_URL = os.environ.get("NOTES_DATABASE_URL", "sqlite:///notes.db")  # label: safe hardcoded-secret
REDIS_URL = "redis://:n0tes-r3dis-pw@cache.internal:6379/0"  # label: hardcoded-secret
JWT_SECRET = "8f2c1e9a7b4d6f3e0a5c2b8d1e7f4a9c"  # label: hardcoded-secret
JWT_ALGORITHM = "HS256"  # label: safe hardcoded-secret
ACCESS_TOKEN_EXPIRE_MINUTES = 60 * 24 * 365  # label: session-fixation
REFRESH_TOKEN_EXPIRE_MINUTES = 60 * 24 * 7  # label: safe session-fixation
FILES_ROOT = "/srv/notes/files"
ALLOWED_FEEDS = {"https://blog.example.com/rss", "https://status.example.com/feed"}
PARTNER_ORIGINS = ["https://partner.example.com"]
GITHUB_TOKEN = "ghp_FAKEfakeFAKEfake0123456789abcdefghij"  # label: hardcoded-secret
GITHUB_TOKEN_ENV = os.getenv("GITHUB_TOKEN")  # label: safe hardcoded-secret
