"""The OpenAPI document as the API answers: every error is ``application/problem+json``.

flask-smorest documents its automatic responses (422 for ``@blp.arguments``, ``default``)
with its own ``{code, status, message}`` JSON, which this API never sends. ``OneCodeApi``
documents them as the RFC 9457 problem (``ProblemSchema``, with ``errors`` as
``app.errors`` sends them: by field, a list of messages or the errors of a nested object),
and ``ErrorResponses``, an apispec plugin run on every operation as it is added, writes in
what the app's request checks can answer on any route, so no route has to repeat them:

- a route that needs a bearer token (``app.auth.require``): 401 (no, a bad, an expired or a
  revoked token; ``WWW-Authenticate: Bearer``) and 403 (a token of another client kind);
- POST, PUT and PATCH: 400 ``malformed-json`` (``app.untrusted_json``), 413 over
  ``MAX_CONTENT_LENGTH``, 415 for a body that is not JSON, a form or multipart;
- a route with an id in its path: 404 ``not-found`` (no such thing, or not the caller's);
- every route: 503 ``service-unavailable`` with ``Retry-After`` (Redis or PostgreSQL down).

Error responses a route documents itself (``@blp.alt_response(409, description=...)``) need
no schema or content type: each is made ``application/problem+json`` with ``ProblemSchema``
(and a 429 gets its ``Retry-After`` header);
where one names the same status as a check above, both descriptions are kept.
"""
from __future__ import annotations

import http
import re

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from core.schemas import PROBLEM_JSON, ProblemSchema

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
BODY_METHODS = ("post", "put", "patch")
# OpenAPI 3 parameters live in these places; a form field is part of the request body.
_PARAMETER_PLACES = {"path", "query", "header", "cookie"}

_PROBLEM_TYPE = re.compile(r"`[a-z][a-z-]*`")
_RETRY_AFTER = {"description": "Seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 1}}

# Responses that the app's own checks give on many routes, by component name.
CHECK_RESPONSES = {
    "BearerTokenRefused": (401, {
        "description": "the bearer token is missing, not valid, expired or revoked: "
                       "`unauthorized` (none sent), `invalid-token`, `token-expired`, "
                       "`token-revoked` (signed out), ...",
        "headers": {"WWW-Authenticate": {"description": "`Bearer`",
                                         "schema": {"type": "string"}}}}),
    "WrongClientKind": (403, {
        "description": "`forbidden`: a token of another kind of client (a resident's, a "
                       "service point's or an issuer's) than this route takes"}),
    "MalformedJson": (400, {
        "description": "`malformed-json`: a JSON body that does not parse, is not UTF-8, is "
                       "nested deeper than 64 levels or has a number of more than 1,000 digits"}),
    "PayloadTooLarge": (413, {
        "description": "`payload-too-large`: a body over `MAX_CONTENT_LENGTH` (10 MB)"}),
    "UnsupportedMediaType": (415, {
        "description": "`unsupported-media-type`: a body that is not JSON, a form or "
                       "multipart"}),
    "NotFound": (404, {
        "description": "`not-found`: nothing with this id, or nothing the caller may see"}),
    "ServiceUnavailable": (503, {
        "description": "`service-unavailable`: Redis or PostgreSQL is down",
        "headers": {"Retry-After": _RETRY_AFTER}}),
}

# The ``errors`` member of a validation problem: messages by field, or, for a nested object,
# a list item (by index) or a mapping's key, the errors inside it.
FIELD_ERRORS = {
    "type": "object",
    "description": "By field: its messages, or the errors inside a nested object, a list "
                   "item (by index) or a mapping entry (`key`, `value`); `_schema` for the "
                   "body as a whole",
    "additionalProperties": {"oneOf": [
        {"type": "array", "items": {"type": "string"}},
        {"$ref": "#/components/schemas/FieldErrors"},
    ]},
}


_DESCRIPTIONS = {
    422: "`validation-error`: the body or the query does not fit the schema; `errors` says "
         "what is wrong with each field",
}


def problem_content() -> dict:
    return {PROBLEM_JSON: {"schema": dict(PROBLEM_REF)}}


class ErrorResponses(BasePlugin):
    """Writes the request checks' responses into each operation of a flask-smorest route."""

    def __init__(self, app: Flask):
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        if rule is None or kwargs.get("by_hand") or not operations:
            return  # a path documented by hand (identity.oidc.openapi) says all it answers
        view = self.app.view_functions[rule.endpoint]
        for method, operation in operations.items():
            if method.startswith("x-") or not isinstance(operation, dict):
                continue
            _body_as_request_body(operation)
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if int(status) >= 400 and isinstance(response, dict):
                    _as_problem(response)
                    if int(status) == 429:  # every refusal to go on says when to try again
                        response.setdefault("headers", {}).setdefault("Retry-After",
                                                                      _RETRY_AFTER)
            names = ["ServiceUnavailable"] + (["NotFound"] if rule.arguments else [])
            if getattr(view, "bearer_check", None) is not None:
                names += ["BearerTokenRefused", "WrongClientKind"]
            if method in BODY_METHODS:
                names += ["MalformedJson", "PayloadTooLarge", "UnsupportedMediaType"]
            for name in names:
                status, response = CHECK_RESPONSES[name]
                _add_response(responses, status, name, response)


def _body_as_request_body(operation: dict) -> None:
    # flask-smorest leaves OpenAPI 2's `formData` parameters beside a multipart requestBody.
    if "parameters" in operation:
        operation["parameters"] = [p for p in operation["parameters"]
                                   if not isinstance(p, dict) or p.get("in") in _PARAMETER_PLACES]
        if not operation["parameters"]:
            del operation["parameters"]


def _as_problem(response: dict) -> None:
    content = response.setdefault("content", {})
    if content.get("application/json", {}).get("schema") == PROBLEM_REF:
        del content["application/json"]
    content.setdefault(PROBLEM_JSON, {"schema": dict(PROBLEM_REF)})


def _add_response(responses: dict, status: int, name: str, response: dict) -> None:
    """Responses are keyed by status code as a string or an int, as they came."""
    key = next((k for k in responses if str(k) == str(status)), None)
    if key is None:
        responses[str(status)] = name  # a component, resolved to a $ref by apispec
        return
    existing = responses[key]
    if not isinstance(existing, dict) or "$ref" in existing:
        return  # flask-smorest's own, made a problem by OneCodeApi already
    said = existing.get("description", "")
    first_type = _PROBLEM_TYPE.search(response["description"])
    if first_type is None or first_type.group(0) not in said:  # else the route said it already
        existing["description"] = f"{said}; {response['description']}" if said else response[
            "description"]
    for header, spec in response.get("headers", {}).items():
        existing.setdefault("headers", {}).setdefault(header, spec)
    _as_problem(existing)


class OneCodeApi(Api):
    """flask-smorest's ``Api``, documenting errors as the problems the API sends."""

    ERROR_SCHEMA = ProblemSchema
    # Each operation lists the errors it answers with; no catch-all that would hide a gap.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app: Flask):
        super().__init__(app, spec_kwargs={"extra_plugins": [ErrorResponses(app)]})

    def _register_responses(self):
        components = self.spec.components
        components.schema("Problem", schema=ProblemSchema)
        components.schema("FieldErrors", component=FIELD_ERRORS)
        components.schemas["Problem"]["properties"]["errors"] = {
            "allOf": [{"$ref": "#/components/schemas/FieldErrors"}],
            "description": "`validation-error`: what is wrong with each field"}
        # flask-smorest names its automatic responses by status (UNPROCESSABLE_ENTITY for
        # @blp.arguments): all are problems.
        for status in http.HTTPStatus:
            if status >= 400:
                response = {"description": _DESCRIPTIONS.get(status, status.phrase),
                            "schema": self.ERROR_SCHEMA}
                prepare_response(response, self.spec, PROBLEM_JSON)
                components.response(status.name, response, lazy=True)
        for name, (_status, response) in CHECK_RESPONSES.items():
            components.response(name, {**response, "content": problem_content()}, lazy=True)

