"""Message extraction for ``make translations``: gettext calls, plus the people-facing text
of problems, which the API writes as plain English (``core.errors`` translates it at render
time).

Besides what Babel's Python extractor finds, it takes from a module:
- ``title = "..."`` in a class body (a ``Problem`` subclass's title);
- the string literal given first to a ``raise SomeProblem("...")`` or to a call of
  ``problem_response`` / a problem's constructor named ``Something(...)`` in a ``raise``;
  errors that never reach a person (``RuntimeError``, ``ValueError`` ...) are left out.
"""
from __future__ import annotations

import ast

from babel.messages.extract import extract_python

_INTERNAL = {"RuntimeError", "ValueError", "TypeError", "KeyError", "LookupError",
             "AssertionError", "NotImplementedError", "ConfigError", "JobFailed", "SystemExit",
             "AttributeError", "Exception", "click.ClickException", "ClickException",
             "UsageError", "BadParameter", "UnknownSigningKey", "MalformedCode", "InvalidCode",
             "ExpiredCode", "DecryptionError", "Malformed", "TooLarge"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value
    return None


def problems(fileobj, keywords, comment_tags, options):
    """A Babel extraction method (``web.babel_extract:problems`` in ``babel.cfg``)."""
    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    tree = ast.parse(source.decode("utf-8") if isinstance(source, bytes) else source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                        and _name(statement.targets[0]) == "title"):
                    text = _literal(statement.value)
                    if text:
                        yield statement.lineno, None, text, ["problem title"]
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            call = node.exc
            if _name(call.func) in _INTERNAL:
                continue
            text = _literal(call.args[0]) if call.args else None
            if text is None:
                for keyword in call.keywords:
                    if keyword.arg == "detail":
                        text = _literal(keyword.value)
            if text:
                yield node.lineno, None, text, ["problem detail"]
        elif isinstance(node, ast.Call) and _name(node.func) == "problem_response":
            for arg in node.args[2:4]:
                text = _literal(arg)
                if text:
                    yield node.lineno, None, text, ["problem"]
        elif (isinstance(node, ast.Call) and _name(node.func) == "__init__"
              and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call)
              and _name(node.func.value.func) == "super"):
            text = _literal(node.args[0]) if node.args else None
            if text:
                yield node.lineno, None, text, ["problem detail"]
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and _name(node.targets[0]) == "_HTTP_TYPES"):
            yield from _werkzeug_words(node)


def _werkzeug_words(node: ast.Assign):
    """The module that answers werkzeug's HTTP errors as problems passes on their names and
    descriptions: those of the statuses it names."""
    from werkzeug.exceptions import default_exceptions

    for key in getattr(node.value, "keys", []):
        exc_class = default_exceptions.get(getattr(key, "value", None))
        if exc_class is not None:
            exc = exc_class()
            yield node.lineno, None, exc.name, ["HTTP error name"]
            yield node.lineno, None, exc.description, ["HTTP error description"]
