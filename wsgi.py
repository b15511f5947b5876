"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from app import create_app, publish_signing_key

app = create_app()
publish_signing_key(app)
