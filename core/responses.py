"""JSON answers built without a schema dump, for the hot routes whose bodies are cached JSON
or a few strings. Their schemas still document them: flask-smorest passes a ``Response``
through as it is."""
from __future__ import annotations

from flask import Response, current_app


def dumps(body) -> bytes:
    """Compact JSON, as ``jsonify`` writes it."""
    return current_app.json.dumps(body, separators=(",", ":")).encode()


def json_response(body: bytes | dict, no_store: bool = False, status: int = 200) -> Response:
    """A JSON answer (200 unless told); ``no_store`` for personal data a cache must not keep."""
    response = current_app.response_class(body if isinstance(body, bytes) else dumps(body),
                                          status=status, mimetype="application/json")
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response
