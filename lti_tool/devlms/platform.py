"""The :class:`DevLms` object: the platform's state and its programmatic API."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from flask import current_app

from lti_tool.devlms import claims as c
from lti_tool.devlms import outbound
from lti_tool.devlms.hints import LOGIN_HINT, MESSAGE_HINT, HintSigner
from lti_tool.devlms.keys import KeyRing
from lti_tool.devlms.launch import LaunchSpec, build_claims, target_link_uri
from lti_tool.devlms.placements import PlacementStore
from lti_tool.devlms.registry import ToolRegistration, ToolRegistry
from lti_tool.devlms.roster import Roster
from lti_tool.devlms.store import JsonStore
from lti_tool.devlms.tokens import TokenBook

log = logging.getLogger(__name__)

VERSION = "0.1"


class RegistrationFailed(Exception):
    """Dynamic Registration driven by :meth:`DevLms.register_tool` did not complete."""


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to its query string."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit(parts._replace(query=query))


def current_lms() -> DevLms:
    """The platform of the current Flask app."""
    lms: DevLms = current_app.extensions["devlms"]
    return lms


class DevLms:
    """A development LTI 1.3 platform whose issuer is ``base_url``; state in ``data_dir``.

    ``clock_skew_seconds`` shifts ``iat``/``exp`` of the id_tokens it issues (tests of a
    platform whose clock runs fast or slow).
    """

    version = VERSION

    def __init__(self, data_dir: str, base_url: str) -> None:
        self.issuer = base_url.rstrip("/")
        self.clock_skew_seconds = 0
        store = JsonStore(data_dir)
        with store.lock:
            identity = store.load("platform", None)
            if identity is None:
                identity = {"secret": secrets.token_urlsafe(32), "guid": str(uuid.uuid4())}
                store.save("platform", identity)
        self.guid: str = identity["guid"]
        self.hints = HintSigner(identity["secret"])
        self.keys = KeyRing(store)
        self.tools = ToolRegistry(store)
        self.roster = Roster(store)
        self.placements = PlacementStore(store)
        self.tokens = TokenBook()

    def url(self, path: str) -> str:
        """An absolute URL on this platform."""
        return self.issuer + path

    def nrps_url(self, course_id: str) -> str:
        return self.url(f"/nrps/{course_id}/memberships")

    # Tools

    def add_tool(
        self,
        client_id: str,
        deployment_id: str,
        tool_base_url: str,
        *,
        name: str = "LTI tool",
    ) -> ToolRegistration:
        """Register a tool by hand; endpoints follow this project's layout under the base URL."""
        tool = ToolRegistration.for_base_url(client_id, deployment_id, tool_base_url, name)
        log.info("tool %s added by hand (deployment %s)", client_id, deployment_id)
        return self.tools.save(tool)

    def tool(self, client_id: str | None = None) -> ToolRegistration:
        """The tool with this client_id, or the first registered one; LookupError if none."""
        tool = self.tools.get(client_id) if client_id else next(iter(self.tools.all()), None)
        if tool is None:
            raise LookupError(f"no tool registered with client_id {client_id!r}")
        return tool

    def register_tool(self, registration_url: str) -> ToolRegistration:
        """Run Dynamic Registration server-to-server and return what the tool registered.

        GETs the tool's registration URL with ``openid_configuration`` and a fresh
        ``registration_token`` as an admin's browser would; during that request the tool
        must POST its registration to our registration endpoint (so serve this app first).
        """
        token = self.tokens.issue_registration_token()
        url = with_query(
            registration_url,
            openid_configuration=self.url("/.well-known/openid-configuration"),
            registration_token=token,
        )
        try:
            response = outbound.get(url)
        except requests.RequestException as exc:
            raise RegistrationFailed(f"cannot reach {registration_url}: {exc}") from exc
        client_id = self.tokens.registered_with(token)
        if client_id is None or not response.ok:
            raise RegistrationFailed(
                f"the tool answered {response.status_code}"
                + ("" if client_id else " without registering")
            )
        return self.tool(client_id)

    # Keys

    def rotate_key(self) -> str:
        """Make a new current signing key (the old one stays in the JWKS); its kid."""
        return self.keys.rotate()

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        """RS256-sign any claims with the current key (see :meth:`KeyRing.sign` for ``kid``)."""
        return self.keys.sign(claims, kid)

    # Launches

    def build_id_token_claims(
        self,
        user_id: str,
        course_id: str,
        message_type: str = c.RESOURCE_LINK_REQUEST,
        *,
        nonce: str | None = None,
        client_id: str | None = None,
        deployment_id: str | None = None,
        placement_id: str | None = None,
        document_target: str = "iframe",
    ) -> dict[str, Any]:
        """The claims the platform would put in this user's id_token (random nonce if None)."""
        spec = self._spec(
            user_id,
            course_id,
            message_type,
            client_id=client_id,
            placement_id=placement_id,
            deployment_id=deployment_id,
            document_target=document_target,
        )
        return build_claims(self, spec, nonce or secrets.token_urlsafe(16))

    def login_initiation(
        self,
        user_id: str,
        course_id: str,
        message_type: str = c.RESOURCE_LINK_REQUEST,
        *,
        client_id: str | None = None,
        deployment_id: str | None = None,
        placement_id: str | None = None,
        document_target: str = "iframe",
    ) -> tuple[str, dict[str, str]]:
        """The tool's login initiation URL and the third-party login parameters to send it."""
        spec = self._spec(
            user_id,
            course_id,
            message_type,
            client_id=client_id,
            placement_id=placement_id,
            deployment_id=deployment_id,
            document_target=document_target,
        )
        tool = self.tool(spec.client_id)
        params = {
            "iss": self.issuer,
            "login_hint": self.hints.dumps(LOGIN_HINT, user_id),
            "target_link_uri": target_link_uri(self, spec),
            "lti_message_hint": self.hints.dumps(MESSAGE_HINT, asdict(spec)),
            "client_id": tool.client_id,
            "lti_deployment_id": deployment_id or tool.deployment_id,
        }
        return tool.initiate_login_uri, params

    def _spec(
        self,
        user_id: str,
        course_id: str,
        message_type: str,
        *,
        client_id: str | None,
        placement_id: str | None,
        deployment_id: str | None,
        document_target: str,
    ) -> LaunchSpec:
        """A launch; without client_id, by the placement's tool or else the first tool."""
        placement = self.placements.get(placement_id) if placement_id else None
        if placement_id and placement is None:
            raise LookupError(f"unknown placement {placement_id!r}")
        tool = self.tool(client_id or (placement.client_id if placement else None))
        return LaunchSpec(
            user_id,
            course_id,
            tool.client_id,
            message_type,
            placement_id,
            deployment_id,
            document_target,
        )

    def read_message_hint(self, hint: str) -> LaunchSpec:
        """The launch a message hint stands for; InvalidHint when forged or expired."""
        return LaunchSpec(**self.hints.loads(MESSAGE_HINT, hint))

    def read_login_hint(self, hint: str) -> str:
        """The user id a login hint stands for; InvalidHint when forged or expired."""
        user_id: str = self.hints.loads(LOGIN_HINT, hint)
        return user_id

    # Roster changes

    def remove_member(self, course_id: str, user_id: str, *, keep_inactive: bool = False) -> None:
        """Take a user out of a course (gone from NRPS; with keep_inactive listed Inactive)."""
        self.roster.remove(course_id, user_id, keep_inactive=keep_inactive)

    def set_member_sections(self, course_id: str, user_id: str, section_ids: list[str]) -> None:
        """Move a member to other sections of the course."""
        self.roster.set_ids(course_id, user_id, "section_ids", section_ids)

    def set_member_groups(self, course_id: str, user_id: str, group_ids: list[str]) -> None:
        """Put a member in other groups of the course."""
        self.roster.set_ids(course_id, user_id, "group_ids", group_ids)
