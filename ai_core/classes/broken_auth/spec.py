"""Broken authentication (CWE-287, 916, 347, 521, 208): weak password storage, unverified tokens,
comparisons of secrets that leak timing, and password policies that accept trivial passwords.

Fix: hash passwords with a slow, salted KDF (bcrypt, argon2, Django's default PBKDF2,
`werkzeug.security.generate_password_hash`); decode JWTs with a key and an explicit algorithm list;
compare secrets with `hmac.compare_digest`; require at least 8 characters (Django's validators).
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ClassSpec
from ai_core.findings import VulnClass

SPEC = ClassSpec(
    vuln_class=VulnClass.BROKEN_AUTH,
    tables={
        "fast_hashes": ("hashlib.md5", "hashlib.sha1", "hashlib.sha224", "hashlib.sha256", "hashlib.sha384",
                        "hashlib.sha512", "hashlib.sha3_256", "hashlib.sha3_512", "hashlib.blake2b",
                        "hashlib.blake2s", "hashlib.new", "Crypto.Hash.MD5.new", "Crypto.Hash.SHA256.new",
                        "crypt.crypt"),
        "password_names": r"(?i)(?<![a-z])(pass(word|wd|phrase)?|pwd|pin)(?![a-z])",
        "weak_django_hashers": ("MD5PasswordHasher", "UnsaltedMD5PasswordHasher", "SHA1PasswordHasher",
                                "UnsaltedSHA1PasswordHasher", "CryptPasswordHasher"),
        "weak_passlib_schemes": ("md5_crypt", "des_crypt", "bsdi_crypt", "apr_md5_crypt", "plaintext", "ldap_md5",
                                 "ldap_sha1", "ldap_plaintext", "hex_md5", "hex_sha1", "hex_sha256", "hex_sha512",
                                 "lmhash", "nthash", "mysql323", "mysql41", "oracle10", "postgres_md5",
                                 "unix_disabled", "roundup_plaintext"),
        "passlib_contexts": ("passlib.context.CryptContext", "passlib.apps.CryptContext"),
        "passlib_hash_module": "passlib.hash.",
        "werkzeug_hash": ("werkzeug.security.generate_password_hash", "werkzeug.generate_password_hash"),
        "weak_werkzeug_methods": ("plain", "md5", "sha1", "sha256"),
        "pbkdf2": ("hashlib.pbkdf2_hmac",),
        "min_pbkdf2_iterations": 100_000,
        "jwt_decode": ("jwt.decode", "jwt.api_jwt.decode", "jose.jwt.decode", "jwt.PyJWT.decode"),
        "jwt_unverified": ("jose.jwt.get_unverified_claims", "jwt.get_unverified_header",
                           "jose.jwt.get_unverified_header"),
        "secret_names": r"(?i)(?<![a-z])(secret|token|signature|sig|digest|hmac|mac|api_?key|apikey|"
                        r"password_hash|pw_hash|otp|nonce|passcode|reset_code)$|^x_\w*(key|token|secret|signature)$",
        "min_password_length": 8,
    },
)
