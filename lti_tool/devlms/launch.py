"""What a launch is about (a :class:`LaunchSpec`) and the id_token claims it produces."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lti_tool.devlms import claims as c
from lti_tool.devlms.hints import DEEP_LINKING_DATA
from lti_tool.devlms.registry import ToolRegistration
from lti_tool.devlms.roster import Membership
from lti_tool.devlms.seed import COURSES, RESOURCE_LINK_TITLE, USERS, User

if TYPE_CHECKING:
    from lti_tool.devlms.platform import DevLms

ID_TOKEN_SECONDS = 300
DOCUMENT_TARGETS = ("iframe", "window")


@dataclass(frozen=True)
class LaunchSpec:
    """Who launches what, from where: the content of an ``lti_message_hint``.

    ``placement_id`` launches a deep-linked placement instead of the course's resource
    link; ``deployment_id`` overrides the tool's deployment (to test unknown deployments).
    """

    user_id: str
    course_id: str
    client_id: str
    message_type: str = c.RESOURCE_LINK_REQUEST
    placement_id: str | None = None
    deployment_id: str | None = None
    document_target: str = "iframe"

    def __post_init__(self) -> None:
        if self.user_id not in USERS:
            raise LookupError(f"unknown user {self.user_id!r}")
        if self.course_id not in COURSES:
            raise LookupError(f"unknown course {self.course_id!r}")
        if self.message_type not in (c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST):
            raise ValueError(f"unsupported message_type {self.message_type!r}")
        if self.document_target not in DOCUMENT_TARGETS:
            raise ValueError(f"document_target must be one of {DOCUMENT_TARGETS}")


class LaunchRefused(Exception):
    """The platform will not launch: an OAuth/OIDC error code and a description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def authorize(lms: DevLms, spec: LaunchSpec) -> None:
    """Refuse users who may not make this launch (non-members; deep linking by non-teachers)."""
    is_admin = c.ROLE_INSTITUTION_ADMIN in USERS[spec.user_id].institution_roles
    membership = lms.roster.membership(spec.course_id, spec.user_id)
    if not is_admin and (membership is None or not membership.active):
        raise LaunchRefused("access_denied", "the user is not an active member of the course")
    if spec.message_type == c.DEEP_LINKING_REQUEST and not (
        is_admin or (membership is not None and membership.is_instructor)
    ):
        raise LaunchRefused("access_denied", "only teachers can add content")
    if spec.placement_id is not None:
        placement = lms.placements.get(spec.placement_id)
        if placement is None or (placement.course_id, placement.client_id) != (
            spec.course_id,
            spec.client_id,
        ):
            raise LaunchRefused("invalid_request", "no such placement for this course and tool")


def target_link_uri(lms: DevLms, spec: LaunchSpec) -> str:
    """Where the launch lands in the tool."""
    tool = lms.tool(spec.client_id)
    if spec.message_type == c.DEEP_LINKING_REQUEST:
        return tool.deep_link_uri
    placement = lms.placements.get(spec.placement_id) if spec.placement_id else None
    return (placement.url if placement else None) or tool.target_link_uri


def substitute(custom: dict[str, str], membership: Membership | None) -> dict[str, str]:
    """Expand the Canvas variables we support; other values pass unchanged (LTI Core 5.4.1)."""
    values = {
        c.VAR_SECTION_IDS: ",".join(membership.section_ids) if membership else "",
        c.VAR_GROUP_IDS: ",".join(membership.group_ids) if membership else "",
    }
    return {key: values.get(value, value) for key, value in custom.items()}


def personal_claims(user: User, tool: ToolRegistration) -> dict[str, str]:
    """Name and e-mail claims, limited to those the tool registered for (None: all)."""
    return {
        name: getattr(user, name)
        for name in c.PERSONAL_CLAIMS
        if tool.claims is None or name in tool.claims
    }


def build_claims(lms: DevLms, spec: LaunchSpec, nonce: str) -> dict[str, Any]:
    """The id_token claims of a resource-link or deep-linking launch."""
    tool = lms.tool(spec.client_id)
    user = USERS[spec.user_id]
    course = lms.roster.course(spec.course_id)
    membership = lms.roster.membership(spec.course_id, spec.user_id)
    now = int(time.time()) + lms.clock_skew_seconds
    claims: dict[str, Any] = {
        "iss": lms.issuer,
        "aud": tool.client_id,
        "azp": tool.client_id,
        "sub": user.id,
        "iat": now,
        "exp": now + ID_TOKEN_SECONDS,
        "nonce": nonce,
        "locale": user.locale,
        **personal_claims(user, tool),
        c.MESSAGE_TYPE: spec.message_type,
        c.VERSION: c.LTI_VERSION,
        c.DEPLOYMENT_ID: spec.deployment_id or tool.deployment_id,
        c.TARGET_LINK_URI: target_link_uri(lms, spec),
        c.ROLES: [*(membership.roles if membership else ()), *user.institution_roles],
        c.CONTEXT: {
            "id": course.id,
            "label": course.label,
            "title": course.title,
            "type": [c.COURSE_OFFERING],
        },
        c.TOOL_PLATFORM: {
            "guid": lms.guid,
            "name": "Development LMS",
            "product_family_code": "devlms",
            "version": lms.version,
        },
        c.LAUNCH_PRESENTATION: {
            "document_target": spec.document_target,
            "locale": user.locale,
            "return_url": lms.url(f"/course/{course.id}?user={user.id}"),
        },
    }
    if membership is not None and membership.mentees:
        claims[c.ROLE_SCOPE_MENTOR] = list(membership.mentees)
    if c.NRPS_SCOPE in tool.scopes:
        claims[c.NRPS_CLAIM] = {
            "context_memberships_url": lms.nrps_url(course.id),
            "service_versions": ["2.0"],
        }
    custom = dict(tool.custom_parameters)
    if spec.message_type == c.DEEP_LINKING_REQUEST:
        claims[c.DL_SETTINGS] = _deep_linking_settings(lms, spec, course.title)
    elif spec.placement_id is not None:
        placement = lms.placements.get(spec.placement_id)
        assert placement is not None
        claims[c.RESOURCE_LINK] = {"id": placement.id, "title": placement.title}
        if placement.text:
            claims[c.RESOURCE_LINK]["description"] = placement.text
        custom.update(placement.custom)
    else:
        claims[c.RESOURCE_LINK] = {"id": course.resource_link_id, "title": RESOURCE_LINK_TITLE}
    claims[c.CUSTOM] = substitute(custom, membership)
    return claims


def _deep_linking_settings(lms: DevLms, spec: LaunchSpec, course_title: str) -> dict[str, Any]:
    data = lms.hints.dumps(
        DEEP_LINKING_DATA,
        {
            "course_id": spec.course_id,
            "client_id": spec.client_id,
            "user_id": spec.user_id,
            "id": secrets.token_hex(8),
        },
    )
    return {
        "deep_link_return_url": lms.url("/deep_link_return"),
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": list(DOCUMENT_TARGETS),
        "accept_multiple": True,
        "auto_create": True,
        "title": f"Add content to {course_title}",
        "data": data,
    }
