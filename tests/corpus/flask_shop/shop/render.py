"""Small HTML fragments rendered outside templates."""

from markupsafe import Markup, escape


def greeting(name):
    return "<p>Welcome back, " + name + "!</p>"


def safe_greeting(name):
    return Markup("<p>Welcome back, {}!</p>").format(name)


def badge(label):
    return f"<span class='badge'>{escape(label)}</span>"


def review_html(text):
    return Markup(f"<blockquote>{text}</blockquote>")
