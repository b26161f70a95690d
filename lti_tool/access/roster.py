"""Roster sync: names-and-roles from the platform into the course's memberships."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from lti_tool.access.models import Course
from lti_tool.access.operations import apply_roster
from lti_tool.audit.operations import record
from lti_tool.db import is_sqlite_busy, utcnow
from lti_tool.errors import Conflict, UpstreamError
from lti_tool.lti.registrations import get_registration
from lti_tool.lti.services import fetch_members
from lti_tool.runtime import Runtime

log = logging.getLogger(__name__)
SYNC_LOCK_SECONDS = 60


def sync_course(session: Session, rt: Runtime, course: Course) -> dict[str, int]:
    """Fetch every member of ``course`` and apply the list; returns the counts.

    Call it before the transaction writes anything else: on SQLite the shared store may commit
    (access token cache) while this transaction holds an older snapshot, and the write is then
    retried once on a fresh one.
    """
    if not course.nrps_url:
        raise Conflict("The platform offers no names-and-roles service for this course.")
    registration = get_registration(session, course.registration_id)
    members = fetch_members(session, rt.store, rt.http, registration, course.nrps_url)
    attempts = 3
    for attempt in range(attempts):
        try:
            with session.begin_nested():
                counts = apply_roster(session, course, members)
                record(
                    session,
                    "roster.synced",
                    course_id=course.id,
                    registration_id=course.registration_id,
                    counts=counts,
                )
            return counts
        except OperationalError as exc:
            if attempt == attempts - 1 or not is_sqlite_busy(exc):
                raise
            session.rollback()  # nothing else was written: start again on a fresh snapshot
    raise AssertionError("unreachable")


def is_stale(course: Course, max_age_minutes: int, now: dt.datetime) -> bool:
    """Whether the roster is older than ``max_age_minutes`` (0: never synced automatically)."""
    if max_age_minutes <= 0 or not course.nrps_url:
        return False
    synced = course.roster_synced_at
    return synced is None or now - synced > dt.timedelta(minutes=max_age_minutes)


def refresh_if_stale(session: Session, rt: Runtime, course: Course) -> bool:
    """Sync a stale roster before access is decided, so leavers lose access within the
    configured freshness. It runs in its own transaction (committed at once), one worker per
    course at a time; a platform that fails leaves the roster as it was (logged) and never
    blocks the page. True when it synced: the caller ends its transaction to see the result."""
    if not is_stale(course, rt.settings.roster_max_age_minutes, utcnow()):
        return False
    if not rt.store.add(f"roster-sync:{course.id}", "1", SYNC_LOCK_SECONDS):
        return False
    try:
        with rt.db.transaction() as own:
            own_course = own.get(Course, course.id)
            if own_course is None:
                return False
            sync_course(own, rt, own_course)
    except (UpstreamError, Conflict) as exc:
        log.warning("roster of course %s not refreshed: %s", course.id, exc)
        return False
    except OperationalError as exc:
        if not is_sqlite_busy(exc):
            raise
        log.warning("roster of course %s not refreshed: SQLite busy, next request", course.id)
        return False
    finally:
        rt.store.delete(f"roster-sync:{course.id}")
    session.expire(course)
    return True
