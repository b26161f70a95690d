"""OIDC third-party initiated login: the launch start page and the authorization endpoint."""

from __future__ import annotations

import logging

from flask import Blueprint, request
from werkzeug.datastructures import MultiDict

from lti_tool.devlms import claims as c
from lti_tool.devlms.hints import InvalidHint
from lti_tool.devlms.launch import LaunchRefused, LaunchSpec, authorize, build_claims
from lti_tool.devlms.platform import DevLms, current_lms
from lti_tool.devlms.registry import ToolRegistration
from lti_tool.devlms.web import autosubmit, error_page

log = logging.getLogger(__name__)
bp = Blueprint("devlms_oidc", __name__)


@bp.get("/launch")
def start_launch() -> str | tuple[str, int]:
    """Send the browser to the tool's login initiation URL (GET, or POST with method=post)."""
    args = request.args
    kind = c.DEEP_LINKING_REQUEST if args.get("kind") == "deeplink" else c.RESOURCE_LINK_REQUEST
    try:
        url, params = current_lms().login_initiation(
            args.get("user", ""),
            args.get("course", ""),
            kind,
            client_id=args.get("tool") or None,
            placement_id=args.get("placement") or None,
            document_target=args.get("target", "iframe"),
        )
    except (LookupError, ValueError) as exc:
        return error_page(400, "Cannot start the launch", str(exc))
    method = "post" if args.get("method") == "post" else "get"
    return autosubmit(url, params, method=method, heading="Opening the tool…")


@bp.route("/auth", methods=["GET", "POST"])
def authorization() -> str | tuple[str, int]:
    """OIDC authorization endpoint: answer with an id_token form_post to the tool.

    Requests naming an unknown client or an unregistered redirect_uri, or not asking for
    form_post, get an error page (never a redirect); other errors are posted back to the
    tool's redirect_uri as ``error``/``error_description``/``state`` (OIDC Core 3.1.2.6).
    """
    lms = current_lms()
    params = request.values
    tool = lms.tools.get(params.get("client_id", ""))
    if tool is None:
        return error_page(400, "Launch refused: unauthorized_client", "Unknown client_id.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in tool.redirect_uris:
        return error_page(
            400,
            "Launch refused: invalid_request",
            "redirect_uri is not registered for this client.",
        )
    if params.get("response_mode") != "form_post":
        return error_page(400, "Launch refused: invalid_request", "response_mode must be form_post")
    state = {"state": params["state"]} if "state" in params else {}
    try:
        spec = _validate(lms, tool, params)
        authorize(lms, spec)
        id_token = lms.sign(build_claims(lms, spec, params["nonce"]))
    except LaunchRefused as exc:
        log.info("authorization refused for client %s: %s", tool.client_id, exc)
        fields = {"error": exc.error, "error_description": exc.description, **state}
        return autosubmit(redirect_uri, fields, heading="Launch refused", error=str(exc))
    log.info("launch of %s by %s in %s", tool.client_id, spec.user_id, spec.course_id)
    return autosubmit(redirect_uri, {"id_token": id_token, **state}, heading="Launching…")


def _validate(lms: DevLms, tool: ToolRegistration, params: MultiDict[str, str]) -> LaunchSpec:
    if "openid" not in params.get("scope", "").split():
        raise LaunchRefused("invalid_scope", "scope must be openid")
    if params.get("response_type") != "id_token":
        raise LaunchRefused("unsupported_response_type", "response_type must be id_token")
    if params.get("prompt") != "none":
        raise LaunchRefused("invalid_request", "prompt must be none")
    if not params.get("nonce"):
        raise LaunchRefused("invalid_request", "nonce is required")
    try:
        user_id = lms.read_login_hint(params.get("login_hint", ""))
    except InvalidHint as exc:
        raise LaunchRefused("login_required", "login_hint is invalid or expired") from exc
    try:
        spec = lms.read_message_hint(params.get("lti_message_hint", ""))
    except InvalidHint as exc:
        raise LaunchRefused("invalid_request", "lti_message_hint is invalid or expired") from exc
    if spec.user_id != user_id:
        raise LaunchRefused("login_required", "login_hint does not match lti_message_hint")
    if spec.client_id != tool.client_id:
        raise LaunchRefused("unauthorized_client", "lti_message_hint was issued to another client")
    return spec
