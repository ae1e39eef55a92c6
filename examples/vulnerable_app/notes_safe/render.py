"""HTML fragments."""

from markupsafe import escape


def note_html(title, body):
    return f"<article><h1>{escape(title)}</h1><div>{escape(body)}</div></article>"
