"""Roster sync: names-and-roles from the platform into the course's memberships."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.access.models import Course
from lti_tool.access.operations import apply_roster
from lti_tool.audit.operations import record
from lti_tool.errors import Conflict
from lti_tool.lti.registrations import get_registration
from lti_tool.lti.services import fetch_members
from lti_tool.runtime import Runtime


def sync_course(session: Session, rt: Runtime, course: Course) -> dict[str, int]:
    """Fetch every member of ``course`` and apply the list; returns the counts."""
    if not course.nrps_url:
        raise Conflict("The platform offers no names-and-roles service for this course.")
    registration = get_registration(session, course.registration_id)
    members = fetch_members(session, rt.store, rt.http, registration, course.nrps_url)
    counts = apply_roster(session, course, members)
    record(
        session,
        "roster.synced",
        course_id=course.id,
        registration_id=registration.id,
        counts=counts,
    )
    return counts
