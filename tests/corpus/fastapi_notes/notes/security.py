"""Tokens, password hashing and API keys."""

import secrets
import time

import jwt
from passlib.context import CryptContext

from notes import settings

legacy_context = CryptContext(schemes=["md5_crypt"])  # label: broken-auth
pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto")  # label: safe broken-auth


def create_access_token(subject: str) -> str:
    expires = int(time.time()) + settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    return jwt.encode({"sub": subject, "exp": expires}, settings.JWT_SECRET, algorithm=settings.JWT_ALGORITHM)  # label: safe session-fixation


def create_share_token(note_id: int) -> str:
    return jwt.encode({"note": note_id, "scope": "read"}, settings.JWT_SECRET, algorithm="HS256")  # label: session-fixation


def decode_token(token: str) -> dict:
    return jwt.decode(token, settings.JWT_SECRET, algorithms=["HS256"])  # label: safe broken-auth


def decode_token_lenient(token: str) -> dict:
    return jwt.decode(token, settings.JWT_SECRET, algorithms=["HS256", "none"])  # label: broken-auth


def sign_debug_token(claims: dict) -> str:
    return jwt.encode(claims, "debug-signing-key-2024", algorithm="HS256")  # label: hardcoded-secret


def has_scope(token_claims: dict, required_scope: str) -> bool:
    return token_claims.get("scope") == required_scope  # label: safe broken-auth


def check_api_key(presented_key: str, stored_key: str) -> bool:
    return secrets.compare_digest(presented_key, stored_key)  # label: safe broken-auth


def check_signature(payload_signature: str, expected_signature: str) -> bool:
    return payload_signature == expected_signature  # label: broken-auth
