"""Tools registered with the platform (by hand or by Dynamic Registration)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from lti_tool.devlms import claims as c
from lti_tool.devlms.store import JsonStore

_DOC = "tools"

DEFAULT_CUSTOM_PARAMETERS = {
    "canvas_section_ids": c.VAR_SECTION_IDS,
    "canvas_group_ids": c.VAR_GROUP_IDS,
}


@dataclass(frozen=True)
class ToolRegistration:
    """One tool: its OAuth client, its single deployment and its endpoints.

    ``claims`` lists the personal claims the tool asked for (None: all of them);
    ``deep_link_uri`` is where deep-linking requests go.
    """

    client_id: str
    deployment_id: str
    name: str
    initiate_login_uri: str
    redirect_uris: list[str]
    jwks_uri: str
    target_link_uri: str
    deep_link_uri: str
    custom_parameters: dict[str, str] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=list)
    claims: list[str] | None = None

    @classmethod
    def for_base_url(
        cls, client_id: str, deployment_id: str, tool_base_url: str, name: str
    ) -> ToolRegistration:
        """A registration for a tool with this project's endpoint layout."""
        base = tool_base_url.rstrip("/")
        return cls(
            client_id=client_id,
            deployment_id=deployment_id,
            name=name,
            initiate_login_uri=f"{base}/lti/login",
            redirect_uris=[f"{base}/lti/launch"],
            jwks_uri=f"{base}/.well-known/jwks.json",
            target_link_uri=f"{base}/lti/launch",
            deep_link_uri=f"{base}/lti/launch",
            custom_parameters=dict(DEFAULT_CUSTOM_PARAMETERS),
            scopes=[c.NRPS_SCOPE],
        )


class ToolRegistry:
    """Registrations by client_id, persisted in ``tools.json``."""

    def __init__(self, store: JsonStore) -> None:
        self._store = store
        self._tools = {cid: ToolRegistration(**doc) for cid, doc in store.load(_DOC, {}).items()}

    def get(self, client_id: str) -> ToolRegistration | None:
        return self._tools.get(client_id)

    def all(self) -> list[ToolRegistration]:
        return list(self._tools.values())

    def save(self, tool: ToolRegistration) -> ToolRegistration:
        """Add or replace the registration with the same client_id."""
        with self._store.lock:
            self._tools[tool.client_id] = tool
            self._store.save(_DOC, {cid: asdict(t) for cid, t in self._tools.items()})
        return tool
