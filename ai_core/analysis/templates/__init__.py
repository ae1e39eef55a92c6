"""Templates are code: unescaped outputs in Jinja2/Django templates, connected to the views that render them.

`usages.py` reads a template with jinja2's own lexer (never rendering it) and lists the outputs that skip HTML
escaping or sit where escaping does not help; `renders.py` finds the Python calls that render a template by name
and what they pass for each variable; `project.py` joins the two into findings at both ends.
"""
