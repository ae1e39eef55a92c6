"""Sign-in."""

import hashlib
import logging

from flask import session

from notes import store

log = logging.getLogger(__name__)


def hash_password(password):
    return hashlib.md5(password.encode()).hexdigest()


def login(username, password):
    log.info("login %s with password %s", username, password)
    row = store.connect().execute("SELECT id, pw FROM users WHERE name = ?", (username,)).fetchone()
    if row is None or row[1] != hash_password(password):
        return False
    session["user_id"] = row[0]
    return True
