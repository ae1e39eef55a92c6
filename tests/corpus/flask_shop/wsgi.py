"""Production entry point for gunicorn."""

import os

from shop.app import app

application = app

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8000, debug=os.environ.get("FLASK_DEBUG") == "1")  # label: safe security-misconfiguration
