"""LTI Dynamic Registration 1.0: read the platform's configuration, register, store the result."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.errors import BadRequest, Forbidden, UpstreamError
from lti_tool.lti import claims as c
from lti_tool.lti.http import PlatformHttp
from lti_tool.lti.models import DeploymentStatus, Registration, RegistrationInvite
from lti_tool.lti.registrations import add_deployment, add_registration, check_url

PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
TOOL_NAME = "Opnames & streams (AVG)"


def create_invite(session: Session, hours: int = 48) -> str:
    """A one-time registration token, valid for ``hours``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        RegistrationInvite(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            expires_at=utcnow() + dt.timedelta(hours=hours),
        )
    )
    session.flush()
    return token


def claim_invite(session: Session, token: str) -> RegistrationInvite:
    """Lock and return an unused, unexpired invite; refuses anything else."""
    invite = session.scalar(
        select(RegistrationInvite)
        .where(RegistrationInvite.token_hash == hashlib.sha256(token.encode()).hexdigest())
        .with_for_update()
    )
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        raise Forbidden("This registration link is invalid, expired or already used.")
    return invite


def tool_configuration(base_url: str, product: str) -> dict[str, Any]:
    """The client registration we POST to the platform (DR section 3.5.2)."""
    domain = urlsplit(base_url).netloc
    launch = base_url + "/lti/launch"
    config: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": base_url + "/lti/login",
        "redirect_uris": [launch],
        "client_name": TOOL_NAME,
        "client_name#nl": "Opnames & streams (AVG)",
        "client_name#en": "Recordings & streams (GDPR)",
        "jwks_uri": base_url + "/.well-known/jwks.json",
        "logo_uri": base_url + "/static/logo.svg",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": c.NRPS_SCOPE,
        TOOL_CONFIG: {
            "domain": domain,
            "target_link_uri": launch,
            "custom_parameters": dict(c.CUSTOM_PARAMETERS),
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email", "locale"],
            "messages": [
                {
                    "type": c.RESOURCE_LINK_REQUEST,
                    "target_link_uri": launch,
                    "label": "Opnames & streams",
                    "label#en": "Recordings & streams",
                },
                {
                    "type": c.DEEP_LINKING_REQUEST,
                    "target_link_uri": launch,
                    "label": "Opnames & streams",
                    "label#en": "Recordings & streams",
                    "placements": ["link_selection", "editor_button", "ContentArea"],
                    "supported_types": ["ltiResourceLink"],
                },
            ],
        },
    }
    if product == "canvas":
        config[TOOL_CONFIG]["https://canvas.instructure.com/lti/privacy_level"] = "public"
    return config


def register(
    session: Session,
    http: PlatformHttp,
    *,
    openid_configuration: str,
    registration_token: str | None,
    base_url: str,
    https_only: bool,
) -> Registration:
    """Run Dynamic Registration against a platform; stores the registration and deployment."""
    check_url(openid_configuration, https_only=https_only, what="openid_configuration")
    platform = http.json("GET", openid_configuration)
    if not isinstance(platform, dict):
        raise UpstreamError("The platform's configuration is malformed.")
    issuer = _required(platform, "issuer")
    if not openid_configuration.startswith(issuer.rstrip("/")):
        # DR 3.5.1: the issuer must be a prefix of the configuration URL.
        raise UpstreamError("The platform's issuer does not match its configuration URL.")
    urls = {
        k: _required(platform, k)
        for k in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
    }
    for name, url in urls.items():
        check_url(url, https_only=https_only, what=name)
    algs = platform.get("id_token_signing_alg_values_supported") or []
    if "RS256" not in algs:
        raise UpstreamError("The platform does not sign with RS256.")
    platform_config = platform.get(PLATFORM_CONFIG) or {}
    product = str(platform_config.get("product_family_code") or "")
    headers = {"Content-Type": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    response = http.request(
        "POST",
        urls["registration_endpoint"],
        json=tool_configuration(base_url, product),
        headers=headers,
    )
    if not 200 <= response.status_code < 300:
        raise UpstreamError(
            "The platform refused the registration.", detail=f"status {response.status_code}"
        )
    try:
        answer = response.json()
    except ValueError as exc:
        raise UpstreamError("The platform's registration answer is malformed.") from exc
    client_id = answer.get("client_id") if isinstance(answer, dict) else None
    if not isinstance(client_id, str) or not client_id:
        raise UpstreamError("The platform's registration answer has no client_id.")
    registration = add_registration(
        session,
        issuer=issuer,
        client_id=client_id,
        auth_login_url=urls["authorization_endpoint"],
        auth_token_url=urls["token_endpoint"],
        auth_audience=platform.get("authorization_server") or None,
        jwks_url=urls["jwks_uri"],
        https_only=https_only,
        name=str(platform_config.get("product_family_code") or issuer),
        product=product,
    )
    deployment_id = (answer.get(TOOL_CONFIG) or {}).get("deployment_id")
    if isinstance(deployment_id, str) and deployment_id:
        add_deployment(session, registration, deployment_id, DeploymentStatus.APPROVED)
    return registration


def _required(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise UpstreamError("The platform's configuration is incomplete.", detail=f"no {key}")
    return value


def check_params(openid_configuration: str | None) -> str:
    """The openid_configuration query parameter, required."""
    if not openid_configuration:
        raise BadRequest("Open this address from the platform's tool registration screen.")
    return openid_configuration
