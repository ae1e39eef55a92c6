"""Production settings, read from the environment."""

import os

DEBUG = os.environ.get("NOTES_DEBUG") == "1"
SECRET_KEY = os.environ["NOTES_SECRET_KEY"]
DATABASE = "/srv/notes/notes.db"
ATTACHMENTS = "/srv/notes/attachments"
IMPORT_HOSTS = {"gist.githubusercontent.com", "pastebin.com"}
