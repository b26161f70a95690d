"""LTI endpoints: login, launch, key set, configuration, Dynamic Registration, deep linking."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.access.audience import can_see
from lti_tool.access.models import Course, Person
from lti_tool.access.operations import record_launch
from lti_tool.access.queries import find_course
from lti_tool.audit.operations import record as audit
from lti_tool.db import is_sqlite_busy
from lti_tool.errors import DeploymentPending, Forbidden, LaunchError, NotFound, _
from lti_tool.items.models import Item, ItemState
from lti_tool.lti import claims as c
from lti_tool.lti import deep_linking, dynamic_registration, keys, login, registrations
from lti_tool.lti.context import LaunchContext
from lti_tool.lti.launch import validate
from lti_tool.policy.facts import Made
from lti_tool.web import sessions
from lti_tool.web.lifecycle import commit, db_session, runtime
from lti_tool.web.security import forget_origins, origin_of, set_cookie

bp = Blueprint("lti", __name__)
log = logging.getLogger(__name__)

# Notices a landing page shows, by the code in its ``notice`` query parameter.
NOTICES = {
    "item-unavailable": _(
        "The recording or stream this link opens is not available to you. "
        "This page shows what the course has for you."
    ),
}
STREAMED = (Made.STREAM, Made.STREAM_AND_RECORDING)


@bp.app_context_processor
def _notice() -> dict[str, Any]:
    code = request.args.get("notice") if has_request_context() else None
    return {"launch_notice": NOTICES[code]} if code in NOTICES else {}


def _params() -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    return {k: v for k, v in source.items() if isinstance(v, str)}


@bp.route("/lti/login", methods=["GET", "POST"])
def login_initiation() -> Response:
    """OIDC login initiation: remember state and nonce, send the browser to the platform."""
    rt = runtime()
    result = login.initiate(
        db_session(),
        rt.store,
        _params(),
        redirect_uri=rt.launch_url,
        our_target_prefixes=rt.target_prefixes,
    )
    response = redirect(result.url, 302)
    set_cookie(response, result.cookie_name, result.state, login.LOGIN_TTL)
    return response


@bp.post("/lti/launch")
def launch() -> Response:
    """Validate the launch, update the roster from it, open a session and land on the home page."""
    rt = runtime()
    session = db_session()
    try:
        result = validate(
            session,
            rt.store,
            rt.platform_keys,
            _params(),
            request.cookies,
            leeway=rt.settings.launch_leeway_seconds,
            our_target_prefixes=rt.target_prefixes,
        )
    except DeploymentPending as exc:
        if exc.params.get("recorded"):
            audit(session, "deployment.pending", detail=exc.detail)
            commit()
        raise
    except LaunchError as exc:
        session.rollback()
        audit(session, "launch.refused", reason=exc.reason, detail=exc.detail)
        commit()
        raise
    ctx = result.context
    if result.new_deployment:
        audit(
            session,
            "deployment.trusted",
            registration_id=ctx.registration_id,
            deployment_id=ctx.deployment_id,
        )
        commit()
    for attempt in range(3):  # the launch is valid (state consumed): only the roster write retries
        try:
            record_launch(session, ctx)
            _learn_frame_origin(session, ctx)
            commit()
            break
        except OperationalError as exc:
            session.rollback()
            if attempt == 2 or not is_sqlite_busy(exc):
                raise
    browser_key = request.cookies.get(sessions.BROWSER_COOKIE) or secrets.token_urlsafe(32)
    sid = sessions.create(ctx, browser_key)
    if ctx.deep_link is not None:
        target = "lti.deep_link"
    elif ctx.target_item_id is not None:
        target = "lti.open_item"
    else:
        target = "web.home"
    response = redirect(url_for(target, sid=sid), 303)
    set_cookie(response, sessions.BROWSER_COOKIE, browser_key, sessions.BROWSER_COOKIE_AGE)
    response.delete_cookie(
        login.state_cookie_name(request.form.get("state", "")),
        path="/",
        secure=True,
        samesite="None",
        partitioned=True,
    )
    return response


def _learn_frame_origin(session: Any, ctx: LaunchContext) -> None:
    """Allow the origin of the platform's own return URLs (signed in the token) to frame us:
    Canvas serves courses from the institution's domain, not from the issuer's."""
    registration = registrations.get_registration(session, ctx.registration_id)
    urls = [ctx.return_url, ctx.deep_link.return_url if ctx.deep_link else None]
    origins = {origin_of(u) for u in urls if u} - {""} - set(registration.frame_origins or [])
    if runtime().settings.https_only:
        origins = {o for o in origins if o.startswith("https://")}
    if origins:
        registration.frame_origins = sorted({*(registration.frame_origins or []), *origins})
        forget_origins()


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The tool's public keys (signing key and not-yet-retired previous keys)."""
    session = db_session()
    keys.signing_key(session)
    data = keys.jwks(session)
    commit()
    response = jsonify(data)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/lti/config")
def configuration_page() -> str:
    """Human-readable values for registering the tool by hand (Brightspace, Moodle)."""
    base = runtime().settings.base_url
    return render_template(
        "lti/config.html",
        urls={
            "login": base + "/lti/login",
            "launch": base + "/lti/launch",
            "jwks": base + "/.well-known/jwks.json",
            "deep_link": base + "/lti/launch",
            "register": base + "/lti/register",
            "canvas": base + "/lti/canvas.json",
        },
        custom=c.CUSTOM_PARAMETERS,
        nrps_scope=c.NRPS_SCOPE,
    )


@bp.get("/lti/canvas.json")
def canvas_json() -> Response:
    """A Canvas developer-key configuration (LTI key, 'Paste JSON')."""
    base = runtime().settings.base_url
    launch_url = base + "/lti/launch"
    placement = {
        "text": dynamic_registration.TOOL_NAME,
        "enabled": True,
        "message_type": c.RESOURCE_LINK_REQUEST,
        "target_link_uri": launch_url,
    }
    return jsonify(
        {
            "title": dynamic_registration.TOOL_NAME,
            "description": "Lesson recordings and live streams under the institution's guideline.",
            "oidc_initiation_url": base + "/lti/login",
            "target_link_uri": launch_url,
            "public_jwk_url": base + "/.well-known/jwks.json",
            "scopes": [c.NRPS_SCOPE],
            "custom_fields": c.CUSTOM_PARAMETERS,
            "extensions": [
                {
                    "platform": "canvas.instructure.com",
                    "privacy_level": "public",
                    "settings": {
                        "placements": [
                            {**placement, "placement": "course_navigation"},
                            {
                                **placement,
                                "placement": "link_selection",
                                "message_type": c.DEEP_LINKING_REQUEST,
                            },
                            {
                                **placement,
                                "placement": "editor_button",
                                "message_type": c.DEEP_LINKING_REQUEST,
                            },
                        ]
                    },
                }
            ],
        }
    )


@bp.get("/lti/register")
@bp.get("/lti/register/<invite>")
def register(invite: str | None = None) -> str:
    """Dynamic Registration: the URL an administrator pastes into the platform."""
    rt = runtime()
    session = db_session()
    claimed = None
    if invite is not None:
        claimed = dynamic_registration.claim_invite(session, invite)
    elif not rt.settings.dev:
        abort(404)
    openid_configuration = dynamic_registration.check_params(
        request.args.get("openid_configuration")
    )
    registration = dynamic_registration.register(
        session,
        rt.http,
        openid_configuration=openid_configuration,
        registration_token=request.args.get("registration_token"),
        base_url=rt.settings.base_url,
        https_only=rt.settings.https_only,
    )
    if claimed is not None:
        claimed.used_at = registration.created_at
        claimed.registration_id = registration.id
    audit(
        session,
        "registration.dynamic",
        actor="platform",
        registration_id=registration.id,
        issuer=registration.issuer,
        client_id=registration.client_id,
    )
    commit()
    forget_origins()
    return render_template("lti/registered.html", registration=registration)


def _course_items(session: Session, course: Course | None) -> list[Item]:
    """The items of the launch's course a link can open: not cancelled, newest first."""
    if course is None:
        return []
    return list(
        session.scalars(
            select(Item)
            .where(Item.course_id == course.id, Item.state != ItemState.CANCELLED)
            .order_by(Item.created_at.desc(), Item.id.desc())
        )
    )


@bp.route("/s/<sid>/deep-link", methods=["GET", "POST"])
@sessions.launch_required
def deep_link() -> Any:
    """A teacher picks what to place in the course (the course overview or one of its items);
    we answer with a signed response."""
    ctx = g.launch
    if ctx.deep_link is None or not ctx.is_teacher:
        raise Forbidden("Only a teacher adding content to a course can do this.")
    session = db_session()
    course = find_course(session, ctx.registration_id, ctx.context_id)
    if request.method == "GET":
        return render_template("lti/deep_link.html", items=_course_items(session, course))
    chosen = request.form.get("target", "course")
    title = request.form.get("title", "").strip()[:200]
    custom = {"lti_tool_page": "course"}
    item_id = None
    if chosen != "course":
        item_id = int(chosen) if chosen.isascii() and chosen.isdigit() and len(chosen) <= 18 else 0
        found = {i.id: i for i in _course_items(session, course)}.get(item_id)
        if found is None:
            raise NotFound()  # another course's item is just as absent as a missing one
        custom = {c.CUSTOM_ITEM: str(found.id)}
        title = title or found.title
    registration = registrations.get_registration(session, ctx.registration_id)
    content = deep_linking.resource_link_item(
        url=runtime().launch_url,
        title=title or gettext("Recordings & streams"),
        text="",
        custom=custom,
    )
    token = deep_linking.response_jwt(session, registration, ctx, [content])
    audit(
        session,
        "deep_link.placed",
        actor=f"{ctx.registration_id}:{ctx.user_sub}",
        registration_id=ctx.registration_id,
        title=content["title"],
        item_id=item_id,
    )
    commit()
    return render_template(
        "lti/deep_link_return.html", return_url=ctx.deep_link.return_url, jwt=token
    )


@bp.get("/s/<sid>/open")
@sessions.launch_required
def open_item() -> Response:
    """Where a placed link to one item lands: teachers on the item's page, its audience on the
    player (streams) or the item's page (recordings); anyone else, and an id that is not an
    item of this course, on the home page with a notice."""
    ctx: LaunchContext = g.launch
    session = db_session()
    course = find_course(session, ctx.registration_id, ctx.context_id)
    item = (
        session.scalar(
            select(Item).where(Item.id == ctx.target_item_id, Item.course_id == course.id)
        )
        if course is not None and ctx.target_item_id is not None
        else None
    )
    if item is not None:
        if ctx.is_teacher:
            return redirect(url_for("items.show", item_id=item.id), 303)
        viewers = [ctx.user_sub] if ctx.is_student else list(ctx.mentor_of) if ctx.is_mentor else []
        for sub in viewers:
            person = session.scalar(
                select(Person.id).where(
                    Person.registration_id == ctx.registration_id, Person.sub == sub
                )
            )
            if person is not None and can_see(session, item, person):
                watch = ctx.is_student and item.made in STREAMED
                target = "streams.watch" if watch else "items.show"
                return redirect(url_for(target, item_id=item.id), 303)
    return redirect(url_for("web.home", notice="item-unavailable"), 303)
