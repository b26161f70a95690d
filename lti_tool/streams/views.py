"""Stream pages: the teacher's key page, the viewer's player and its link renewal (inside a
launch session), and the media server's callbacks (outside any session, token in the path)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response

from lti_tool.access.models import Course, Person
from lti_tool.access.roster import refresh_if_stale
from lti_tool.db import utcnow
from lti_tool.errors import Forbidden, NotFound, _
from lti_tool.items.models import Item
from lti_tool.items.queries import card, get_item
from lti_tool.lti.context import LaunchContext
from lti_tool.streams import operations, window
from lti_tool.streams.providers import LiveProvider
from lti_tool.web.i18n import current_locale
from lti_tool.web.lifecycle import commit, db_session, runtime
from lti_tool.web.sessions import launch_required, launched_course

bp = Blueprint("streams", __name__)

RENEW_SECONDS = 120
STATES = {"idle": _("Not started yet"), "live": _("Live"), "ended": _("Ended")}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"stream_states": STATES}


def _provider() -> LiveProvider:
    return operations.provider_for(runtime().settings, current_app.config["SECRET_KEY"])


def _item(ctx: LaunchContext, item_id: int) -> Item:
    return get_item(db_session(), launched_course().id, item_id)


def _person_id(ctx: LaunchContext) -> int | None:
    return db_session().scalar(
        select(Person.id).where(
            Person.registration_id == ctx.registration_id, Person.sub == ctx.user_sub
        )
    )


def _teacher_item(item_id: int) -> tuple[LaunchContext, Item]:
    ctx: LaunchContext = g.launch
    if not ctx.is_teacher:
        raise Forbidden(_("Only teachers of this course can set up recordings and streams."))
    item = _item(ctx, item_id)
    problem = operations.refusal(item)
    if problem is not None:
        raise problem
    return ctx, item


@bp.route("/s/<sid>/items/<int:item_id>/stream", methods=["GET", "POST"])
@launch_required
def setup(item_id: int) -> str:
    """The teacher's page: where to push; a new secret key on POST (shown this once)."""
    ctx, item = _teacher_item(item_id)
    session = db_session()
    context: dict[str, Any] = {
        "item": item,
        "key": None,
        "ingest": None,
        "media": operations.media_status(_provider(), runtime().store),
        "window": None,
        "timezone": runtime().settings.timezone,
    }
    if request.method == "POST":
        actor = f"{ctx.registration_id}:{ctx.user_sub}"
        issued, key, ingest = operations.issue_key(session, item, _provider(), actor=actor)
        commit()
        context.update(stream=issued, key=key, ingest=ingest)
    else:
        existing = operations.stream_of(session, item)
        context.update(stream=existing)
        if existing is not None:
            context["ingest"] = _provider().ingest(existing.name, "KEY", operations.recorded(item))
    shown = context["stream"].window if context.get("stream") is not None else None
    if shown is not None:
        zone = runtime().settings.timezone
        context["window"] = (window.local(shown.start, zone), window.local(shown.end, zone))
    return render_template("streams/setup.html", **context)


@bp.post("/s/<sid>/items/<int:item_id>/stream/schedule")
@launch_required
def schedule(item_id: int) -> Response:
    """Set (or with ``clear``, remove) the window in which the stream may be live."""
    ctx, item = _teacher_item(item_id)
    settings = runtime().settings
    found = None
    if "clear" not in request.form:
        found = window.parse(
            request.form.get("day", ""),
            request.form.get("start", ""),
            request.form.get("end", ""),
            settings.timezone,
            utcnow(),
        )
    actor = f"{ctx.registration_id}:{ctx.user_sub}"
    operations.schedule(db_session(), item, found, _provider(), actor=actor)
    commit()
    return redirect(url_for("streams.setup", item_id=item.id), 303)


def _fresh_roster(item: Item) -> None:
    """Leavers lose access within the roster freshness, even with a session still open."""
    session = db_session()
    course = session.get(Course, item.course_id)
    if course is not None and refresh_if_stale(session, runtime(), course):
        commit()


def _card(item: Item) -> Any:
    """The item as its pages describe it (audience, retention) for the G2 notice."""
    return card(item, current_locale())


@bp.get("/s/<sid>/items/<int:item_id>/watch")
@launch_required
def watch(item_id: int) -> str:
    """The player: the launch session and the item's audience decide, on every request."""
    ctx: LaunchContext = g.launch
    item = _item(ctx, item_id)
    _fresh_roster(item)
    state = operations.viewing(db_session(), item, _person_id(ctx), _provider()).state
    return render_template(
        "streams/watch.html", card=_card(item), state=state.value, renew=RENEW_SECONDS
    )


@bp.get("/s/<sid>/items/<int:item_id>/watch/link")
@launch_required
def link(item_id: int) -> Response:
    """A fresh signed playlist URL while the viewer may still watch (the player renews)."""
    ctx: LaunchContext = g.launch
    item = _item(ctx, item_id)
    _fresh_roster(item)
    seen = operations.viewing(db_session(), item, _person_id(ctx), _provider())
    body: dict[str, Any] = {"state": seen.state.value, "renew_in": RENEW_SECONDS}
    if seen.playback is not None:
        body.update(url=seen.playback.url, expires=seen.playback.expires)
    return jsonify(body)


def _callback(token: str) -> None:
    if not _provider().accepts_callback(token):
        raise NotFound()


def _decided(check: Callable[[], object], refused: str) -> tuple[str, int]:
    """Answer nginx: 2xx when ``check`` passes, 403 when it raises ``PublishRefused`` (whose
    audit event is kept either way)."""
    try:
        check()
    except operations.PublishRefused:
        commit()
        return refused, 403
    commit()
    return "ok", 200


@bp.post("/streams/nginx/<token>/on_publish")
def on_publish(token: str) -> tuple[str, int]:
    """nginx-rtmp asks whether a publish may start: 2xx yes, 403 no (audited)."""
    _callback(token)
    form = request.form
    return _decided(
        lambda: operations.publish(
            db_session(),
            form.get("name", ""),
            form.get("key", ""),
            app=form.get("app", ""),
            addr=form.get("addr", ""),
        ),
        "refused",
    )


@bp.post("/streams/nginx/<token>/on_update")
def on_update(token: str) -> tuple[str, int]:
    """nginx-rtmp asks, while a publish lasts, whether it may go on: 403 cuts it off."""
    _callback(token)
    form = request.form
    return _decided(
        lambda: operations.still_publishing(
            db_session(), form.get("name", ""), form.get("key", ""), addr=form.get("addr", "")
        ),
        "cut off",
    )


@bp.post("/streams/nginx/<token>/on_record_done")
def on_record_done(token: str) -> tuple[str, int]:
    """nginx-rtmp finished recording a stream (application ``rec``): the tool takes the file
    as a recording of the item (converted by a background job)."""
    _callback(token)
    settings = runtime().settings
    operations.take_recording(
        db_session(),
        request.form.get("name", ""),
        request.form.get("path", ""),
        settings,
        record_dir=settings.stream_record_dir,
    )
    commit()
    return "ok", 200


@bp.post("/streams/nginx/<token>/on_publish_done")
def on_publish_done(token: str) -> tuple[str, int]:
    """nginx-rtmp reports that a publish ended."""
    _callback(token)
    operations.publish_done(db_session(), request.form.get("name", ""))
    commit()
    return "ok", 200
