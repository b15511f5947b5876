"""JSON from outside, loaded within bounds that no client can push the process past.

Python's ``json`` recurses once per nesting level (a body of a few thousand ``[`` is a
``RecursionError``), refuses integers of more than 4,300 digits with a bare ``ValueError``,
turns ``1e999`` into an infinity and accepts ``NaN``, ``Infinity`` and escaped lone
surrogates, which no database or encoder takes later. ``loads`` refuses all of these up
front as ``MalformedJson`` (400 ``malformed-json``):

- nesting deeper than ``MAX_DEPTH`` (64) arrays and objects, counted before parsing;
- a number of more than ``MAX_DIGITS`` (1,000) digits, and one too large for a float;
- ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON;
- text that is not UTF-8, or strings that hold a lone surrogate.

The app loads every JSON request body through it (``install``, ``load_json_body``),
whichever code reads the body: Flask's ``request.get_json``, webargs (for flask-smorest's
``@blp.arguments``) or a route of its own; services call it for JSON that arrives inside
other formats (an SD-JWT's parts).
"""
from __future__ import annotations

import json
import math
import re
from itertools import accumulate

from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider

from core.errors import Problem

MAX_DEPTH = 64
MAX_DIGITS = 1000

# A JSON string literal, escapes included: the brackets and digits inside one do not count.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# A \uD800-\uDFFF escape: a surrogate, paired or lone; pairs become one character on loading.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class MalformedJson(Problem, ValueError):
    """Not JSON, or JSON past the bounds above. A ``ValueError`` too, so that code which
    already treats a ``json.loads`` failure as bad input treats this one alike."""

    type = "malformed-json"
    status = 400
    title = "The body is not valid JSON"


def loads(data: bytes | str):
    """The value of ``data``, a JSON text; raises ``MalformedJson`` for anything outside
    the bounds in the module's docstring (and for what ``json.loads`` refuses)."""
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedJson("The body is not UTF-8 text.") from None
    else:
        text = data
    _check_depth(_STRING.sub("", text))
    try:
        value = json.loads(text, parse_int=_bounded_int, parse_float=_bounded_float,
                           parse_constant=_refuse_constant)
    except MalformedJson:
        raise
    except ValueError:
        raise MalformedJson("The request body could not be parsed as JSON.") from None
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        _check_unicode(value)
    return value


def _check_depth(skeleton: str) -> None:
    brackets = _NOT_BRACKET.sub("", skeleton)
    if brackets.count("[") + brackets.count("{") <= MAX_DEPTH:
        return
    if max(accumulate(map(_STEP.__getitem__, brackets))) > MAX_DEPTH:
        raise MalformedJson("JSON may be nested at most %(depth)s levels deep.",
                            params={"depth": MAX_DEPTH})


def _bounded_int(text: str) -> int:
    if len(text) - text.startswith("-") > MAX_DIGITS:
        raise MalformedJson("A number may have at most %(digits)s digits.",
                            params={"digits": MAX_DIGITS})
    return int(text)


def _bounded_float(text: str) -> float:
    digits = len(text) - sum(text.count(c) for c in "-+.eE")
    if digits > MAX_DIGITS:
        raise MalformedJson("A number may have at most %(digits)s digits.",
                            params={"digits": MAX_DIGITS})
    value = float(text)
    if not math.isfinite(value):
        raise MalformedJson("A number is too large.")
    return value


def _refuse_constant(name: str):
    raise MalformedJson("%(name)s is not a JSON value.", params={"name": name})


def _check_unicode(value) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedJson("A string holds a lone surrogate, which is not Unicode text.") from None


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON with ``loads`` bounded as above."""

    def loads(self, s: str | bytes, **kwargs):
        return loads(s)


class BoundedJSONRequest(Request):
    """A request whose JSON failures are the ``malformed-json`` problem."""

    def on_json_loading_failed(self, e: ValueError | None):
        if isinstance(e, MalformedJson):
            raise e
        raise MalformedJson("The request body could not be parsed as JSON.") from e


def load_json_body() -> None:
    """``before_request``: a JSON body is loaded (and cached for ``get_json``) before any
    route reads it, so libraries that parse the raw body themselves (webargs) only ever see
    a body within bounds. A request that ``check_bearer_first`` refused never gets here."""
    if request.routing_exception is None and request.is_json and request.get_data(cache=True):
        request.get_json()


def install(app: Flask) -> None:
    """Flask loads JSON through ``loads``; the factory also registers ``load_json_body``,
    after the bearer check."""
    app.json = BoundedJSONProvider(app)
    app.request_class = BoundedJSONRequest
