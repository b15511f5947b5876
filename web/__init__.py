"""The pages for people, and the languages every answer for people uses.

They sit above every domain package and below the composition root.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Languages (called by the factory)."""
    from web import i18n

    i18n.init_app(app)
