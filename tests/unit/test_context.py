"""Role normalisation and the LaunchContext built from claims."""

from __future__ import annotations

from lti_tool.lti import claims as c
from lti_tool.lti.context import LaunchContext, build_context, normalise_roles

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


def test_roles_are_normalised() -> None:
    assert normalise_roles([LIS + "membership#Instructor"]) == {"teacher"}
    assert normalise_roles([LIS + "membership/Instructor#TeachingAssistant"]) == {"teacher"}
    assert normalise_roles([LIS + "membership#Learner", LIS + "institution/person#Student"]) == {
        "student"
    }
    assert normalise_roles([LIS + "membership#Mentor"]) == {"mentor"}
    assert normalise_roles([LIS + "institution/person#Administrator"]) == {"admin"}
    assert normalise_roles(["Learner", 42, LIS + "membership#Unknown"]) == {"student"}  # type: ignore[list-item]


def _claims(**custom: str) -> dict:
    return {
        "iss": "https://lms.example",
        "aud": ["client-1", "other"],
        "azp": "client-1",
        "sub": "u1",
        "given_name": "Ada",
        "family_name": "Lovelace",
        c.DEPLOYMENT_ID: "d1",
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST,
        c.ROLES: [LIS + "membership#Mentor"],
        c.ROLE_SCOPE_MENTOR: ["s1", "s2"],
        c.CONTEXT: {"id": "ctx", "title": "Course"},
        c.RESOURCE_LINK: {"id": "rl"},
        c.CUSTOM: custom,
        c.LAUNCH_PRESENTATION: {"locale": "en-GB", "return_url": "https://x/y"},
    }


def test_context_from_claims_and_back() -> None:
    ctx = build_context(7, "canvas", _claims(canvas_section_ids="b,a, a", canvas_group_ids=""))
    assert ctx.client_id == "client-1" and ctx.user_name == "Ada Lovelace"
    assert ctx.mentor_of == ("s1", "s2") and ctx.is_mentor and ctx.primary_role == "mentor"
    assert ctx.section_ids == ("a", "b") and ctx.group_ids == ()
    assert ctx.locale == "en-GB" and ctx.return_url == "https://x/y"
    assert LaunchContext.from_json(ctx.to_json()) == ctx


def test_unsubstituted_canvas_variables_mean_no_data() -> None:
    ctx = build_context(1, "", _claims(canvas_section_ids="$Canvas.course.sectionIds"))
    assert ctx.section_ids == ()
