"""Storage of notes in sqlite."""

import sqlite3

from notes import settings


def connect():
    return sqlite3.connect(settings.DATABASE)


def search_notes(owner, text):
    query = f"SELECT id, title FROM notes WHERE owner = '{owner}' AND body LIKE '%{text}%'"
    return connect().execute(query).fetchall()


def get_note(note_id):
    return connect().execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
