"""IMS claim, role, scope and media-type URIs used by the development LMS."""

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

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DL_SETTINGS = DL + "deep_linking_settings"
DL_DATA = DL + "data"
DL_CONTENT_ITEMS = DL + "content_items"
DL_MSG = DL + "msg"
DL_ERRORMSG = DL + "errormsg"

NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"

LTI_VERSION = "1.3.0"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
ROLE_INSTRUCTOR = MEMBERSHIP + "Instructor"
ROLE_LEARNER = MEMBERSHIP + "Learner"
ROLE_MENTOR = MEMBERSHIP + "Mentor"
ROLE_TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
ROLE_INSTITUTION_ADMIN = INSTITUTION + "Administrator"
ROLE_INSTITUTION_FACULTY = INSTITUTION + "Faculty"
ROLE_INSTITUTION_STUDENT = INSTITUTION + "Student"
ROLE_INSTITUTION_MENTOR = INSTITUTION + "Mentor"
COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"

# Canvas-style substitution variables the platform expands in custom parameters.
VAR_SECTION_IDS = "$Canvas.course.sectionIds"
VAR_GROUP_IDS = "$Canvas.group.contextIds"

# Claims a tool may ask for in its registration; personal ones are sent only when asked.
PERSONAL_CLAIMS = ("name", "given_name", "family_name", "email")
