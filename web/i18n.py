"""Languages: Simplified Chinese by default, English on request.

The reader's language is, in order: ``?lang=`` on this request (remembered in a cookie for the
pages that follow), that cookie, the browser's ``Accept-Language``, then Chinese. The same
choice translates the pages, the partner sign-in pages and every problem's ``title`` and
``detail`` (``core.errors`` asks Flask-Babel at render time; the ``type`` never changes).

The catalogue is ``web/translations`` (English message ids, Chinese translations):
``make translations`` extracts, updates and compiles it.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request, request_started
from flask_babel import Babel, get_locale, refresh

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT = "zh_CN"
# Babel's locale name → the value of <html lang> and Content-Language.
HTML_LANG = {"zh_CN": "zh-CN", "zh_Hans_CN": "zh-CN", "en": "en"}
_ASKED = {"zh": "zh_CN", "zh-cn": "zh_CN", "zh-hans": "zh_CN", "zh_cn": "zh_CN", "en": "en"}
COOKIE = "lang"
COOKIE_SECONDS = 365 * 24 * 3600

babel = Babel()


def _asked_in_query() -> str | None:
    return _ASKED.get((request.args.get("lang") or "").strip().lower())


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT  # a CLI command or a job: the default language
    chosen = _asked_in_query() or _ASKED.get((request.cookies.get(COOKIE) or "").lower())
    if chosen:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best is None:
        return DEFAULT
    return _ASKED[best.lower()]


def html_lang() -> str:
    """The language of this answer as <html lang> says it: ``zh-CN`` or ``en``."""
    return HTML_LANG.get(str(get_locale()), "zh-CN")


def _remember_choice(response):
    asked = _asked_in_query()
    if asked and response.mimetype == "text/html":
        secure = current_app.config.get("SESSION_COOKIE_SECURE", False)
        response.set_cookie(COOKIE, HTML_LANG[asked], max_age=COOKIE_SECONDS, httponly=True,
                            samesite="Lax", secure=secure)
    if g.get("_translated"):
        response.vary.add("Accept-Language")
        response.headers.setdefault("Content-Language", html_lang())
    return response


def mark_translated() -> None:
    """This answer depends on the reader's language (caches must vary on it)."""
    g._translated = True


def _choose_again(_sender=None, **_extra) -> None:
    # Flask-Babel keeps its choice on ``g``, which lives as long as the app context: one
    # request in production, but a whole test where a test holds the context open.
    refresh()
    g.pop("_translated", None)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_locale=DEFAULT,
                   default_translation_directories=str(TRANSLATIONS))
    # Before any before_request hook: the bearer check may already answer with a problem.
    request_started.connect(_choose_again, app, weak=False)
    app.after_request(_remember_choice)

    @app.context_processor
    def _language():
        mark_translated()
        return {"html_lang": html_lang()}
