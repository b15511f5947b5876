"""The pages for people: the landing page, the resident's phone H5 (``/app/``) and the
counter console (``/counter/``), in Chinese by default and English on request.

They sit above every domain package and below the composition root: they call the services
in process (the counter) or the public API from the browser (the resident's app), and own
the translations that the partner pages and problem answers use too.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Languages, cookie settings and the pages' blueprints (called by the factory)."""
    from web import counter, i18n, pages, security

    i18n.init_app(app)
    security.secure_cookies(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(counter.bp)
