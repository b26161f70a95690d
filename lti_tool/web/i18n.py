"""Languages: Dutch and English through Flask-Babel. The launch's locale decides, a switch
(``?lang=``, remembered in a cookie) overrides it, then the browser's preference."""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask_babel import Babel, get_locale, gettext

from lti_tool.web.lifecycle import runtime

LANGUAGES = ("nl", "en")
LANG_COOKIE = "ltt_lang"


def _from_tag(tag: str | None) -> str | None:
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def select_locale() -> str:
    """The language of this request."""
    chosen = _from_tag(request.args.get("lang")) or _from_tag(request.cookies.get(LANG_COOKIE))
    if chosen:
        return chosen
    launch = g.get("launch")
    from_launch = _from_tag(launch.locale) if launch is not None else None
    return (
        from_launch
        or request.accept_languages.best_match(LANGUAGES)
        or runtime().settings.default_locale
    )


def current_locale() -> str:
    """The language this request's page is rendered in ('nl' or 'en')."""
    return str(get_locale() or runtime().settings.default_locale)


def _(text: str) -> str:
    """Mark ``text`` for extraction; it is translated where it is shown."""
    return text


ROLE_NAMES = {
    "teacher": _("Teacher"),
    "student": _("Student"),
    "mentor": _("Parent or guardian"),
    "admin": _("Administrator"),
}


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.globals["role_names"] = ROLE_NAMES
    app.jinja_env.filters["role_label"] = lambda role: gettext(ROLE_NAMES.get(role, role))

    @app.context_processor
    def _locale() -> dict[str, str]:
        return {"current_locale": current_locale()}

    @app.after_request
    def _remember_choice(response: Response) -> Response:
        chosen = _from_tag(request.args.get("lang"))
        if chosen:
            response.set_cookie(
                LANG_COOKIE,
                chosen,
                max_age=365 * 24 * 3600,
                secure=True,
                samesite="None",
                partitioned=True,
                httponly=True,
            )
        return response
