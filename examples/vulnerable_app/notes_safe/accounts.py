"""Sign-in."""

import logging

import bcrypt
from flask import session

from notes_safe import store

log = logging.getLogger(__name__)


def hash_password(password):
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt())


def login(username, password):
    log.info("login attempt for %s", username)
    row = store.connect().execute("SELECT id, pw FROM users WHERE name = ?", (username,)).fetchone()
    if row is None or not bcrypt.checkpw(password.encode(), row[1]):
        return False
    session.clear()
    session["user_id"] = row[0]
    return True
