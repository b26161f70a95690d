"""The launch, parsed once: a frozen :class:`LaunchContext` is all other code sees of claims."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from lti_tool.lti import claims as c

ROLE_TEACHER = "teacher"
ROLE_STUDENT = "student"
ROLE_MENTOR = "mentor"
ROLE_ADMIN = "admin"


@dataclass(frozen=True)
class DeepLinkSettings:
    return_url: str
    accept_types: tuple[str, ...]
    accept_multiple: bool
    data: str | None


@dataclass(frozen=True)
class LaunchContext:
    """What a validated launch tells us, with roles normalised."""

    registration_id: int
    issuer: str
    client_id: str
    deployment_id: str
    message_type: str
    user_sub: str
    user_name: str
    user_email: str
    roles: frozenset[str]
    mentor_of: tuple[str, ...]
    context_id: str | None
    context_title: str
    context_label: str
    resource_link_id: str | None
    resource_link_title: str
    section_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    nrps_url: str | None
    locale: str | None
    return_url: str | None = None
    deep_link: DeepLinkSettings | None = None
    platform_product: str = ""
    target_item_id: int | None = None

    @property
    def is_teacher(self) -> bool:
        return ROLE_TEACHER in self.roles

    @property
    def is_student(self) -> bool:
        return ROLE_STUDENT in self.roles

    @property
    def is_mentor(self) -> bool:
        return ROLE_MENTOR in self.roles

    @property
    def is_admin(self) -> bool:
        return ROLE_ADMIN in self.roles

    @property
    def primary_role(self) -> str:
        """The role that picks the landing page: teacher > admin > mentor > student."""
        for role in (ROLE_TEACHER, ROLE_ADMIN, ROLE_MENTOR, ROLE_STUDENT):
            if role in self.roles:
                return role
        return ROLE_STUDENT

    def to_json(self) -> str:
        data = asdict(self)
        data["roles"] = sorted(self.roles)
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str) -> LaunchContext:
        data = json.loads(raw)
        data["roles"] = frozenset(data["roles"])
        for key in ("mentor_of", "section_ids", "group_ids"):
            data[key] = tuple(data[key])
        if data.get("deep_link"):
            dl = data["deep_link"]
            dl["accept_types"] = tuple(dl["accept_types"])
            data["deep_link"] = DeepLinkSettings(**dl)
        return cls(**data)


def normalise_roles(role_uris: list[str]) -> frozenset[str]:
    """Map IMS role URIs (or short names) to teacher/student/mentor/admin."""
    out: set[str] = set()
    for uri in role_uris:
        if not isinstance(uri, str):
            continue
        name = uri.rsplit("/", 1)[-1]
        short = name.rsplit("#", 1)[-1]
        if short in c.TEACHER_ROLES or name in c.TEACHER_ROLES:
            out.add(ROLE_TEACHER)
        elif short in c.STUDENT_ROLES:
            out.add(ROLE_STUDENT)
        elif short in c.MENTOR_ROLES:
            out.add(ROLE_MENTOR)
        elif short in c.ADMIN_ROLES:
            out.add(ROLE_ADMIN)
    return frozenset(out)


def _id_list(custom: dict[str, Any], key: str) -> tuple[str, ...]:
    raw = custom.get(key)
    if not isinstance(raw, str) or raw.startswith("$"):
        return ()  # unsubstituted variable: the platform sent no data
    return tuple(sorted({part.strip() for part in raw.split(",") if part.strip()}))


def _item_id(custom: dict[str, Any]) -> int | None:
    """The item a placed link targets (custom ``lti_tool_item``); anything but a plain positive
    integer is ignored."""
    raw = custom.get(c.CUSTOM_ITEM)
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw) or None


def _str(value: Any, limit: int = 255) -> str:
    return value[:limit] if isinstance(value, str) else ""


def build_context(registration_id: int, product: str, token: dict[str, Any]) -> LaunchContext:
    """Turn validated id_token claims into a :class:`LaunchContext`."""
    context = token.get(c.CONTEXT) or {}
    link = token.get(c.RESOURCE_LINK) or {}
    custom = token.get(c.CUSTOM) or {}
    presentation = token.get(c.LAUNCH_PRESENTATION) or {}
    nrps = token.get(c.NRPS) or {}
    mentor_of = token.get(c.ROLE_SCOPE_MENTOR) or []
    dl_settings = token.get(c.DL_SETTINGS)
    deep_link = None
    if token.get(c.MESSAGE_TYPE) == c.DEEP_LINKING_REQUEST and isinstance(dl_settings, dict):
        deep_link = DeepLinkSettings(
            return_url=str(dl_settings.get("deep_link_return_url", "")),
            accept_types=tuple(str(t) for t in dl_settings.get("accept_types", [])),
            accept_multiple=bool(dl_settings.get("accept_multiple", False)),
            data=dl_settings.get("data") if isinstance(dl_settings.get("data"), str) else None,
        )
    locale = token.get("locale") or presentation.get("locale")
    name = _str(token.get("name")) or " ".join(
        p for p in (_str(token.get("given_name")), _str(token.get("family_name"))) if p
    )
    return LaunchContext(
        registration_id=registration_id,
        issuer=str(token["iss"]),
        client_id=_audience_client(token),
        deployment_id=str(token[c.DEPLOYMENT_ID]),
        message_type=str(token[c.MESSAGE_TYPE]),
        user_sub=str(token["sub"]),
        user_name=name,
        user_email=_str(token.get("email")),
        roles=normalise_roles(list(token.get(c.ROLES) or [])),
        mentor_of=tuple(str(s) for s in mentor_of if isinstance(s, str)),
        context_id=str(context["id"]) if context.get("id") else None,
        context_title=_str(context.get("title")),
        context_label=_str(context.get("label")),
        resource_link_id=str(link["id"]) if link.get("id") else None,
        resource_link_title=_str(link.get("title")),
        section_ids=_id_list(custom, c.CUSTOM_SECTION_IDS),
        group_ids=_id_list(custom, c.CUSTOM_GROUP_IDS),
        nrps_url=str(nrps["context_memberships_url"])
        if nrps.get("context_memberships_url")
        else None,
        locale=_str(locale, 16) or None,
        return_url=_str(presentation.get("return_url"), 2048) or None,
        deep_link=deep_link,
        platform_product=product,
        target_item_id=_item_id(custom) if isinstance(custom, dict) else None,
    )


def _audience_client(token: dict[str, Any]) -> str:
    aud = token["aud"]
    if isinstance(aud, list):
        return str(token.get("azp") or aud[0])
    return str(aud)
