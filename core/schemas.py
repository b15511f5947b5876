"""Schema pieces every package shares: safe text fields, times and the problem body."""
from marshmallow import Schema, ValidationError, fields

from core import clock

PROBLEM_JSON = "application/problem+json"


class Text(fields.String):
    """A string that every database and encoder takes: no NUL, no lone surrogates."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text)
        if problem is not None:
            raise ValidationError(problem)
        return text


def text_problem(text: str) -> str | None:
    """Why ``Text`` refuses this string (a NUL, a lone surrogate), or None when it takes it."""
    if "\x00" in text:
        return "Must not contain NUL characters."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text."
    return None


class Rfc3339(fields.DateTime):
    """A moment in an answer: an aware (or naive UTC) datetime written as ``clock.rfc3339``
    writes it (UTC, ``Z``), ``None`` as null. Documented as ``string``, ``date-time``."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else clock.rfc3339(value)


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error is answered."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "validation errors by field"})
