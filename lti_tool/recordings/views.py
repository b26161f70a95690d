"""Recording pages: the item's recordings (upload, record in the browser, progress), the tus
endpoints, the player with its short-lived link, hand-in settings and who appears. Every page
is inside a launch session; the item's course is the launched course."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.access.models import Person
from lti_tool.access.operations import person_for
from lti_tool.errors import Forbidden, NotFound, ToolError, _
from lti_tool.items.models import Item
from lti_tool.items.queries import audience_options, card, get_item
from lti_tool.lti.context import LaunchContext
from lti_tool.recordings import operations as ops
from lti_tool.recordings import tus
from lti_tool.recordings.models import Recording, RecordingState, Source
from lti_tool.web.i18n import current_locale
from lti_tool.web.lifecycle import commit, db_session, runtime
from lti_tool.web.sessions import launch_required, launched_course

bp = Blueprint("recordings", __name__)

STATES = {
    "uploading": _("Uploading"),
    "processing": _("Processing"),
    "ready": _("Ready"),
    "failed": _("Failed"),
    "erased": _("Deleted"),
}
TUS_HEADERS = {"Tus-Resumable": tus.VERSION}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"recording_states": STATES}


@bp.before_request
def _upload_limit() -> None:
    """tus PATCH bodies are large: allowed up to the recording limit (streamed, never held)."""
    if request.endpoint == "recordings.upload":
        request.max_content_length = runtime().settings.recording_max_bytes + 1


@bp.after_request
def _tus_headers(response: Response) -> Response:
    if request.endpoint in {"recordings.uploads", "recordings.upload"}:
        response.headers.update(TUS_HEADERS)
    return response


def _actor(ctx: LaunchContext) -> str:
    return f"{ctx.registration_id}:{ctx.user_sub}"


def _me(ctx: LaunchContext) -> Person:
    return person_for(db_session(), ctx.registration_id, ctx.user_sub)


def _item(item_id: int) -> Item:
    return get_item(db_session(), launched_course().id, item_id)


def _teacher_item(item_id: int) -> tuple[LaunchContext, Item]:
    ctx: LaunchContext = g.launch
    if not ctx.is_teacher:
        raise Forbidden(_("Only teachers of this course can set up recordings and streams."))
    return ctx, _item(item_id)


def _recording(recording_id: int) -> Recording:
    found = db_session().get(Recording, recording_id)
    if found is None or found.item.course_id != launched_course().id:
        raise NotFound()
    return found


def _row(r: Recording) -> dict[str, Any]:
    return {
        "id": r.id,
        "state": r.state.value,
        "label": str(_l(STATES[r.state.value])),
        "error": str(_l(r.error)) if r.error else None,
        "title": r.filename,
        "play": url_for("recordings.player", recording_id=r.id)
        if r.state is RecordingState.READY
        else None,
    }


def _l(text: str) -> str:
    from flask_babel import gettext

    return str(gettext(text))


def _visible(item: Item, ctx: LaunchContext, me: Person) -> list[Recording]:
    """Teachers see every recording of the item; others what they may play and their own
    uploads in progress or failed (nothing half-visible to anyone else)."""
    session = db_session()
    every = ops.recordings_of(session, item)
    if ctx.is_teacher:
        return [r for r in every if r.state is not RecordingState.ERASED]
    return [
        r
        for r in every
        if ops.may_play(session, r, me.id)
        or (r.uploaded_by_id == me.id and r.state is not RecordingState.ERASED)
    ]


@bp.get("/s/<sid>/items/<int:item_id>/recordings")
@launch_required
def item_page(item_id: int) -> str:
    """The item's recordings; upload or record when allowed (teachers; students of a
    hand-in item)."""
    ctx: LaunchContext = g.launch
    session = db_session()
    item = _item(item_id)
    me = _me(ctx)
    may_add = ops.refusal(item) is None and ops.may_upload(session, item, me.id, ctx.is_teacher)
    recordings = _visible(item, ctx, me)
    if not ctx.is_teacher and not may_add and not recordings:
        raise NotFound()
    settings = runtime().settings
    return render_template(
        "recordings/item.html",
        card=card(item, current_locale()),
        teacher=ctx.is_teacher,
        may_add=may_add,
        refusal=ops.refusal(item),
        recordings=recordings,
        hand_in=ops.recording_item(session, item),
        people=ops.people_of(session, item) if ctx.is_teacher else [],
        max_bytes=settings.recording_max_bytes,
        max_seconds=settings.recording_max_seconds,
        formats=settings.recording_formats,
    )


@bp.get("/s/<sid>/items/<int:item_id>/recordings/status")
@launch_required
def status(item_id: int) -> Response:
    """The states of the recordings this person sees (the page polls while processing)."""
    ctx: LaunchContext = g.launch
    item = _item(item_id)
    return jsonify({"recordings": [_row(r) for r in _visible(item, ctx, _me(ctx))]})


# --- tus ----------------------------------------------------------------------------------


def _check_version() -> None:
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != tus.VERSION:
        raise tus.VersionMismatch()


@bp.route("/s/<sid>/items/<int:item_id>/uploads", methods=["OPTIONS", "POST"])
@launch_required
def uploads(item_id: int) -> Response | tuple[str, int, dict[str, str]]:
    """tus creation: ``Upload-Length`` and ``Upload-Metadata`` (filename, filetype, source)."""
    settings = runtime().settings
    if request.method == "OPTIONS":
        return (
            "",
            204,
            {
                "Tus-Version": tus.VERSION,
                "Tus-Extension": tus.EXTENSIONS,
                "Tus-Max-Size": str(settings.recording_max_bytes),
                "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUMS),
            },
        )
    _check_version()
    ctx: LaunchContext = g.launch
    item = _item(item_id)
    length = tus.parse_length(request.headers.get("Upload-Length"))
    meta = tus.parse_metadata(request.headers.get("Upload-Metadata", ""))
    source = Source.BROWSER if meta.get("source") == "browser" else Source.UPLOAD
    upload = ops.start_upload(
        db_session(),
        item,
        _me(ctx),
        is_teacher=ctx.is_teacher,
        length=length,
        filename=meta.get("filename", ""),
        source=source,
        settings=settings,
        actor=_actor(ctx),
    )
    commit()
    location = url_for("recordings.upload", upload_id=upload.id)
    return (
        "",
        201,
        {
            "Location": location,
            "Upload-Expires": upload.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "Upload-Offset": "0",
            "X-Recording-Id": str(upload.recording_id),
        },
    )


@bp.route("/s/<sid>/uploads/<upload_id>", methods=["HEAD", "PATCH", "DELETE"])
@launch_required
def upload(upload_id: str) -> tuple[str, int, dict[str, str]]:
    """tus: HEAD says the offset; PATCH appends at ``Upload-Offset``; DELETE cancels."""
    _check_version()
    ctx: LaunchContext = g.launch
    session = db_session()
    settings = runtime().settings
    found = ops.get_upload(session, upload_id, _me(ctx).id, launched_course().id)
    headers = {
        "Upload-Length": str(found.length),
        "Upload-Expires": found.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "X-Recording-Id": str(found.recording_id),
    }
    if request.method == "HEAD":
        return "", 200, {**headers, "Upload-Offset": str(found.offset)}
    if request.method == "DELETE":
        ops.cancel_upload(session, found, settings, actor=_actor(ctx))
        commit()
        return "", 204, {}
    if request.mimetype != tus.CONTENT_TYPE:
        raise tus.WrongContentType()
    offset = request.headers.get("Upload-Offset", "")
    if not offset.isdigit():
        raise tus.OffsetMismatch(detail="no Upload-Offset")
    # With a Content-Length the body is read straight from the server's input (never past
    # that length); werkzeug's wrapper would copy every block once more.
    body = request.environ["wsgi.input"] if request.content_length is not None else request.stream
    try:
        ops.receive(
            session,
            found,
            body,
            offset=int(offset),
            content_length=request.content_length,
            checksum=tus.parse_checksum(request.headers.get("Upload-Checksum")),
            settings=settings,
            actor=_actor(ctx),
        )
    except ToolError:
        commit()  # keep what the operation recorded (a refused file is gone, and audited)
        raise
    commit()
    return "", 204, {**headers, "Upload-Offset": str(found.offset)}


# --- playback -----------------------------------------------------------------------------


@bp.get("/s/<sid>/recordings/<int:recording_id>")
@launch_required
def player(recording_id: int) -> str:
    """The player: the launch session and the audience decide, on every request."""
    ctx: LaunchContext = g.launch
    recording = _recording(recording_id)
    if not ops.may_play(db_session(), recording, _me(ctx).id):
        raise NotFound()
    return render_template(
        "recordings/player.html",
        card=card(recording.item, current_locale()),
        recording=recording,
        renew=ops.LINK_SECONDS // 2,
    )


@bp.get("/s/<sid>/recordings/<int:recording_id>/link")
@launch_required
def link(recording_id: int) -> Response:
    """A fresh short-lived media URL while the viewer may still watch (the player renews)."""
    ctx: LaunchContext = g.launch
    recording = _recording(recording_id)
    found = ops.link(
        db_session(),
        recording,
        _me(ctx).id,
        runtime().settings,
        ops.media_secret(runtime().settings, current_app.config["SECRET_KEY"]),
    )
    return jsonify({"url": found.url, "poster": found.poster, "expires": found.expires})


# --- teachers: hand-in, who appears -------------------------------------------------------


@bp.post("/s/<sid>/items/<int:item_id>/hand-in")
@launch_required
def hand_in(item_id: int) -> Response:
    ctx, item = _teacher_item(item_id)
    ops.set_hand_in(
        db_session(),
        item,
        hand_in=request.form.get("hand_in") == "1",
        shared_with_class=request.form.get("shared") == "1",
        actor=_actor(ctx),
    )
    commit()
    return redirect(url_for("recordings.item_page", item_id=item.id), 303)


def _ints(name: str) -> list[int]:
    try:
        return [int(v) for v in request.form.getlist(name)]
    except ValueError:
        raise NotFound() from None


@bp.route("/s/<sid>/items/<int:item_id>/people", methods=["GET", "POST"])
@launch_required
def people(item_id: int) -> Response | str:
    """Who can be recognised: students from the roster, whole sections, guests by name.
    For an item that needs consent, the new people are asked at once."""
    ctx, item = _teacher_item(item_id)
    session = db_session()
    if request.method == "POST":
        guests = [line for line in request.form.get("guests", "").splitlines() if line.strip()]
        new_ids, new_guests = ops.add_people(
            session,
            item,
            person_ids=_ints("person"),
            group_ids=_ints("group"),
            guests=guests,
            actor=_actor(ctx),
        )
        if ops.needs_consent(item) and (new_ids or new_guests):
            _ask(ctx, item, new_ids, new_guests)
        commit()
        return redirect(url_for("recordings.people", item_id=item.id), 303)
    listed = ops.people_of(session, item)
    return render_template(
        "recordings/people.html",
        item=item,
        listed=listed,
        marked={p.person_id for p in listed if p.person_id},
        options=audience_options(session, item.course_id),
    )


def _ask(ctx: LaunchContext, item: Item, person_ids: list[int], guests: list[str]) -> None:
    """Consent requests for the people marked in a G3 item (guests: by name; the teacher
    adds their e-mail on the consent page to send them a link)."""
    from lti_tool.consent import operations as consent
    from lti_tool.consent.views import _caller, _context

    wants_students = "students" in item.consent_from
    wants_guests = "guests" in item.consent_from
    consent.ask(
        db_session(),
        item,
        _context(ctx.registration_id),
        _caller(ctx),
        person_ids=person_ids if wants_students else (),
        guests=[(name, "") for name in guests] if wants_guests else (),
    )
