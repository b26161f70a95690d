"""Claim names and role URIs of LTI 1.3 (Core, Deep Linking 2.0, NRPS 2.0)."""

from __future__ import annotations

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
ROLES = LTI + "roles"
ROLE_SCOPE_MENTOR = LTI + "role_scope_mentor"
CONTEXT = LTI + "context"
RESOURCE_LINK = LTI + "resource_link"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
TOOL_PLATFORM = LTI + "tool_platform"
CUSTOM = LTI + "custom"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DL_SETTINGS = DL + "deep_linking_settings"
DL_CONTENT_ITEMS = DL + "content_items"
DL_DATA = DL + "data"
DL_MSG = DL + "msg"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
SUPPORTED_MESSAGES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

# Custom parameters we register; Canvas substitutes the variables, others leave them unset.
CUSTOM_SECTION_IDS = "canvas_section_ids"
CUSTOM_GROUP_IDS = "canvas_group_ids"
# Set by our own deep-linking responses: the item a placed link opens (never registered).
CUSTOM_ITEM = "lti_tool_item"
CUSTOM_PARAMETERS = {
    CUSTOM_SECTION_IDS: "$Canvas.course.sectionIds",
    CUSTOM_GROUP_IDS: "$Canvas.group.contextIds",
}

# Role vocabulary: the last path segment after '#' decides (membership, institution, system).
TEACHER_ROLES = frozenset(
    {"Instructor", "TeachingAssistant", "ContentDeveloper", "Instructor#TeachingAssistant"}
)
STUDENT_ROLES = frozenset({"Learner", "Student"})
MENTOR_ROLES = frozenset({"Mentor"})
ADMIN_ROLES = frozenset({"Administrator", "SysAdmin"})
