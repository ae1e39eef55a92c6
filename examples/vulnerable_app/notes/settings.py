"""Production settings."""

DEBUG = True
SECRET_KEY = "n0tes-pr0d-s3cret-k3y-2024-xyz"
DATABASE = "/srv/notes/notes.db"
ATTACHMENTS = "/srv/notes/attachments"
