"""HTML fragments."""


def note_html(title, body):
    return f"<article><h1>{title}</h1><div>{body}</div></article>"
