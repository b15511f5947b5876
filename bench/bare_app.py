"""The baseline: a bare Flask JSON endpoint, served under the same gunicorn settings."""
from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare():
    return {"ok": True}
