"""Storage of notes in sqlite."""

import sqlite3

from notes_safe import settings


def connect():
    return sqlite3.connect(settings.DATABASE)


def search_notes(owner, text):
    query = "SELECT id, title FROM notes WHERE owner = ? AND body LIKE ?"
    return connect().execute(query, (owner, f"%{text}%")).fetchall()


def get_note(note_id):
    return connect().execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
