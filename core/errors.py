"""Problem details (RFC 9457): the one way every error leaves this API.

Domains declare their problems as subclasses of ``Problem`` with class attributes only; one
set of handlers turns them, marshmallow's validation errors and werkzeug's HTTP errors into
``application/problem+json``. No stack trace, secret or personal data ever reaches a client.
"""
from __future__ import annotations

import logging
import traceback

from flask import Flask, current_app, json, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Base class of every error that the API answers with."""

    type: str = "internal-error"
    status: int = 500
    title: str = "Internal server error"

    def __init__(self, detail: str | None = None, *, headers: dict | None = None,
                 params: dict | None = None, **extra):
        """``detail`` is English text, or a ``%(name)s`` template filled from ``params``
        after translation (so the catalogue holds the template, not each filled text)."""
        super().__init__((detail % params if params else detail) if detail else self.title)
        self.detail = detail
        self.params = params
        self.headers = headers or {}
        self.extra = extra


class ValidationProblem(Problem):
    type = "validation-error"
    status = 422
    title = "The request is not valid"

    def __init__(self, errors: dict, detail: str | None = None):
        super().__init__(detail or "One or more fields are not valid.", errors=errors)


class NotFound(Problem):
    type = "not-found"
    status = 404
    title = "Not found"


class ServiceUnavailable(Problem):
    type = "service-unavailable"
    status = 503
    title = "A service this request needs is unavailable"


class TooManyAttempts(Problem):
    type = "too-many-attempts"
    status = 429
    title = "Too many failed attempts; try again later"

    def __init__(self, retry_after: int):
        super().__init__("Try again after the seconds that Retry-After gives.",
                         headers={"Retry-After": retry_after})


class Unauthorized(Problem):
    type = "unauthorized"
    status = 401
    title = "Authentication is required"


class Forbidden(Problem):
    type = "forbidden"
    status = 403
    title = "Not allowed"


# Short names for werkzeug's HTTP errors, so that clients can match on them.
_HTTP_TYPES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
}


def _translated(text: str) -> str:
    """``text`` in the reader's language (``Accept-Language``, zh-CN by default), where the
    app's catalogue has it; as written otherwise, or when the app set up no translations."""
    if "babel" not in current_app.extensions:
        return text
    return gettext(text)


def problem_response(type_: str, status: int, title: str, detail: str | None = None,
                     headers: dict | None = None, detail_params: dict | None = None, **extra):
    # The type is the stable name clients match on; title and detail are for people.
    body = {
        "type": current_app.config["PROBLEM_TYPE_BASE"] + type_,
        "title": _translated(title),
        "status": status,
    }
    if detail:
        body["detail"] = _translated(detail) % detail_params if detail_params else _translated(detail)
    body.update(extra)
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON
    )
    for name, value in (headers or {}).items():
        response.headers[name] = str(value)
    response.vary.add("Accept-Language")
    return response


def _flatten_messages(messages) -> dict:
    """webargs nests errors by location (``json``, ``form``...); clients want them by field."""
    if isinstance(messages, dict):
        if set(messages) <= {"json", "form", "files", "query", "headers", "view_args", "json_or_form"}:
            merged: dict = {}
            for part in messages.values():
                merged.update(part if isinstance(part, dict) else {"_schema": part})
            return merged
        return messages
    return {"_schema": messages}


def handle_problem(exc: Problem):
    return problem_response(exc.type, exc.status, exc.title, exc.detail, exc.headers,
                            detail_params=getattr(exc, "params", None), **exc.extra)


def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    headers = dict(data.get("headers") or {})
    if status == 405 and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 422 and messages is not None:
        errors = _flatten_messages(messages)
        return problem_response("validation-error", 422, ValidationProblem.title,
                                "One or more fields are not valid.", headers, errors=errors)
    if status == 400 and messages is not None:
        # webargs reports unparseable JSON as a 400 with its own message.
        return problem_response("malformed-json", 400, "The body is not valid JSON",
                                "The request body could not be parsed as JSON.", headers)
    if status == 429:
        retry = getattr(exc, "retry_after", None)
        if retry:
            headers["Retry-After"] = str(retry)
    title = exc.name if status < 500 else "Internal server error"
    return problem_response(_HTTP_TYPES.get(status, "http-error" if status < 500 else "internal-error"),
                            status, title, exc.description if status < 500 else None, headers)


def handle_unexpected(exc: Exception):
    # The message of an arbitrary exception may carry personal data (a database error quotes
    # the row), so the log gets the exception's type and where it was raised, never its text.
    log.error("unhandled error", extra={
        "endpoint": request.endpoint,
        "error_type": type(exc).__name__,
        "where": traceback.format_tb(exc.__traceback__)[-3:],
    })
    return problem_response("internal-error", 500, "Internal server error")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(Problem, handle_problem)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
