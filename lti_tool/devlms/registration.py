"""LTI Dynamic Registration 1.0: the OpenID configuration and the registration endpoint."""

from __future__ import annotations

import logging
import secrets
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request

from lti_tool.devlms import claims as c
from lti_tool.devlms.platform import DevLms, current_lms
from lti_tool.devlms.registry import ToolRegistration
from lti_tool.devlms.services import SUPPORTED_SCOPES
from lti_tool.devlms.web import no_store, oauth_error

log = logging.getLogger(__name__)
bp = Blueprint("devlms_registration", __name__)
T = TypeVar("T")

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
SUPPORTED_MESSAGES = (c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST)


class InvalidRegistration(Exception):
    """A client registration the platform refuses: a DCR error code and a description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def openid_configuration(lms: DevLms) -> dict[str, Any]:
    """The platform's OpenID configuration with its LTI platform configuration."""
    return {
        "issuer": lms.issuer,
        "authorization_endpoint": lms.url("/auth"),
        "token_endpoint": lms.url("/token"),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": lms.url("/.well-known/jwks.json"),
        "registration_endpoint": lms.url("/register"),
        "scopes_supported": ["openid", *sorted(SUPPORTED_SCOPES)],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "aud", "sub", "locale", *c.PERSONAL_CLAIMS],
        c.PLATFORM_CONFIGURATION: {
            "product_family_code": "devlms",
            "version": lms.version,
            "messages_supported": [{"type": t} for t in SUPPORTED_MESSAGES],
            "variables": [c.VAR_SECTION_IDS, c.VAR_GROUP_IDS],
        },
    }


@bp.get("/.well-known/openid-configuration")
def configuration() -> Response:
    return jsonify(openid_configuration(current_lms()))


@bp.post("/register")
def register() -> Response:
    """Register a tool from its client registration (DR 1.0 section 3.5); answer with its ids."""
    lms = current_lms()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not lms.tokens.registration_token_usable(token):
        return oauth_error(401, "invalid_token", "a valid, unused registration token is required")
    doc = request.get_json(silent=True)
    try:
        if not isinstance(doc, dict):
            raise InvalidRegistration("invalid_client_metadata", "the body must be a JSON object")
        client_id, deployment_id = f"devlms-{secrets.token_hex(6)}", f"dep-{secrets.token_hex(4)}"
        tool = parse_registration(doc, client_id, deployment_id)
    except InvalidRegistration as exc:
        log.info("client registration refused: %s", exc)
        return oauth_error(400, exc.error, exc.description)
    if not lms.tokens.claim_registration_token(token, tool.client_id):
        return oauth_error(401, "invalid_token", "the registration token was used meanwhile")
    lms.tools.save(tool)
    log.info("tool %s registered by Dynamic Registration as %s", tool.name, tool.client_id)
    answer = {
        **doc,
        "client_id": tool.client_id,
        "scope": " ".join(tool.scopes),
        c.TOOL_CONFIGURATION: {
            **doc[c.TOOL_CONFIGURATION],
            "deployment_id": tool.deployment_id,
        },
    }
    return no_store(jsonify(answer))


def _url(value: Any, name: str, domain: str, error: str = "invalid_client_metadata") -> str:
    """An https URL (http on loopback hosts) on the tool's domain or a subdomain of it."""
    parts = urlsplit(value) if isinstance(value, str) else None
    host = parts.hostname if parts else None
    if parts is None or host is None:
        raise InvalidRegistration(error, f"{name} must be an absolute URL")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        raise InvalidRegistration(error, f"{name} must use https")
    if host != domain and not host.endswith("." + domain):
        raise InvalidRegistration(error, f"{name} is not on the tool's domain {domain}")
    return str(value)


def _strings(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidRegistration("invalid_client_metadata", f"{name} must map strings to strings")
    return value


def _typed(value: Any, kind: type[T], description: str) -> T:
    if not isinstance(value, kind):
        raise InvalidRegistration("invalid_client_metadata", description)
    return value


def _check_client_metadata(doc: dict[str, Any]) -> None:
    """The OAuth client metadata an LTI tool must register with (DR 1.0 section 3.1)."""
    expected = {
        "application_type": ("web", "application_type must be web"),
        "response_types": (["id_token"], 'response_types must be ["id_token"]'),
        "token_endpoint_auth_method": (
            "private_key_jwt",
            "token_endpoint_auth_method must be private_key_jwt",
        ),
    }
    for key, (value, description) in expected.items():
        if doc.get(key) != value:
            raise InvalidRegistration("invalid_client_metadata", description)
    grants = _typed(doc.get("grant_types"), list, "grant_types must be a list")
    if not {"implicit", "client_credentials"} <= set(grants):
        raise InvalidRegistration(
            "invalid_client_metadata", "grant_types must include implicit and client_credentials"
        )


def _deep_link_uri(messages: list[Any], default: str, domain: str) -> str:
    """The target_link_uri of the LtiDeepLinkingRequest message, else ``default``."""
    uri = default
    for message in messages:
        message = _typed(message, dict, "each message must be an object")
        if message.get("type") == c.DEEP_LINKING_REQUEST and "target_link_uri" in message:
            uri = _url(message["target_link_uri"], "message target_link_uri", domain)
    return uri


def parse_registration(doc: dict[str, Any], client_id: str, deployment_id: str) -> ToolRegistration:
    """Validate a client registration request; the registration it makes."""
    _check_client_metadata(doc)
    name = _typed(doc.get("client_name"), str, "client_name is required").strip()
    scope = _typed(doc.get("scope", ""), str, "scope must be a space-separated string")
    config = _typed(doc.get(c.TOOL_CONFIGURATION), dict, f"{c.TOOL_CONFIGURATION} is required")
    domain = urlsplit("//" + _typed(config.get("domain"), str, "domain is required")).hostname
    if not name or not domain:
        raise InvalidRegistration("invalid_client_metadata", "client_name and domain are required")
    redirect_uris = doc.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris:
        raise InvalidRegistration("invalid_redirect_uri", "redirect_uris must be a non-empty list")
    for uri in redirect_uris:
        _url(uri, "each redirect_uri", domain, "invalid_redirect_uri")
    target_link_uri = _url(config.get("target_link_uri"), "target_link_uri", domain)
    messages = _typed(config.get("messages", []), list, "messages must be a list")
    claims = config.get("claims")
    if claims is not None and not (
        isinstance(claims, list) and all(isinstance(x, str) for x in claims)
    ):
        raise InvalidRegistration("invalid_client_metadata", "claims must be a list of strings")
    return ToolRegistration(
        client_id=client_id,
        deployment_id=deployment_id,
        name=name,
        initiate_login_uri=_url(doc.get("initiate_login_uri"), "initiate_login_uri", domain),
        redirect_uris=list(redirect_uris),
        jwks_uri=_url(doc.get("jwks_uri"), "jwks_uri", domain),
        target_link_uri=target_link_uri,
        deep_link_uri=_deep_link_uri(messages, target_link_uri, domain),
        custom_parameters=_strings(config.get("custom_parameters", {}), "custom_parameters"),
        scopes=sorted(set(scope.split()) & SUPPORTED_SCOPES),
        claims=claims,
    )
