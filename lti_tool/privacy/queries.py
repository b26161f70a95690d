"""Read models of the privacy officer's desk, all scoped to one registration: upcoming
deletions and reviews, open deletion plans, withdrawals and objections, pending consents per
course, access and erasure requests, and the audit log search (keyset pagination).

Overdue, failed and carried-out deletions come from the retention sweep
(``lti_tool.deletion``): :func:`sweep_state` brings them to the desk.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import Session, selectinload

from lti_tool.access.models import Course, Person
from lti_tool.audit.models import AuditEvent
from lti_tool.consent.models import ConsentRequest, DeletionPlan, LedgerKind, LedgerRecord
from lti_tool.consent.state import PENDING, RequestState, statuses
from lti_tool.db import UTCDateTime
from lti_tool.deletion import queries as deletion_queries
from lti_tool.errors import BadRequest, _
from lti_tool.items.models import Item, ItemState
from lti_tool.privacy.models import PrivacyRequest

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _courses(registration_id: int) -> Select[Any]:
    return select(Course.id).where(Course.registration_id == registration_id)


# --- upcoming deletions and reviews ------------------------------------------------------------


@dataclass(frozen=True)
class Upcoming:
    """An item whose deletion or review date falls in the window."""

    item: Item
    course: Course
    day: dt.date
    what: str  # "delete" or "review"


def upcoming(
    session: Session, registration_id: int, today: dt.date, days: int = 60, limit: int = 200
) -> list[Upcoming]:
    """Items of the registration deleted or reviewed from ``today`` to ``today + days``,
    by date (both dates are indexed)."""
    end = today + dt.timedelta(days=days)
    found: list[Upcoming] = []
    for column, what in ((Item.delete_on, "delete"), (Item.review_on, "review")):
        rows = session.execute(
            select(Item, Course)
            .join(Course, Course.id == Item.course_id)
            .where(
                Course.registration_id == registration_id,
                Item.state != ItemState.DELETED,
                column.is_not(None),
                column >= today,
                column <= end,
            )
            .order_by(column, Item.id)
            .limit(limit)
        )
        for item, course in rows:
            day = item.delete_on if what == "delete" else item.review_on
            assert day is not None  # filtered above
            found.append(Upcoming(item, course, day, what))
    found.sort(key=lambda u: (u.day, u.item.id))
    return found[:limit]


@dataclass(frozen=True)
class SweepProblem:
    """An overdue or failed deletion, as the retention sweep reports it."""

    item_id: int
    course: str
    title: str
    due_on: dt.date
    state: str
    attempts: int
    last_error: str


def _course_titles(session: Session, registration_id: int) -> dict[int, str]:
    return {
        c.id: c.title or c.label
        for c in session.scalars(select(Course).where(Course.registration_id == registration_id))
    }


@dataclass(frozen=True)
class SweepState:
    """What the retention sweep shows on the desk: ``problems`` (failed, and overdue items
    it has not reached yet), ``deleted`` (latest deletions carried out, with course titles)."""

    problems: list[SweepProblem]
    deleted: list[tuple[deletion_queries.Done, str]]


def sweep_state(
    session: Session, registration_id: int, today: dt.date, deleted_limit: int = 50
) -> SweepState:
    """The sweep's problems and latest deletions of the registration's items (one overview)."""
    titles = _course_titles(session, registration_id)
    found = deletion_queries.overview(session, today, course_ids=list(titles))
    problems = [
        SweepProblem(
            f.item_id,
            titles[f.course_id],
            f.title,
            f.due_on,
            f.state.value,
            f.attempts,
            f.last_error or "",
        )
        for f in found.failed
    ]
    failing = {p.item_id for p in problems}
    problems += [
        SweepProblem(o.item_id, titles[o.course_id], o.title, o.delete_on, "overdue", 0, "")
        for o in found.overdue
        if o.item_id not in failing
    ]
    return SweepState(
        sorted(problems, key=lambda p: (p.due_on, p.item_id)),
        [(d, titles[d.course_id]) for d in found.done[:deleted_limit]],
    )


# --- deletion plans, withdrawals, objections ------------------------------------------------


def open_plans(
    session: Session, registration_id: int, today: dt.date, limit: int = 200
) -> list[tuple[DeletionPlan, Item, Course]]:
    """Deletion plans of withdrawals not yet due, soonest first (plans past their date are
    the sweep's: see :func:`sweep_state`)."""
    rows = session.execute(
        select(DeletionPlan, Item, Course)
        .join(Item, Item.id == DeletionPlan.item_id)
        .join(Course, Course.id == Item.course_id)
        .where(Course.registration_id == registration_id, DeletionPlan.delete_on >= today)
        .order_by(DeletionPlan.delete_on, DeletionPlan.id)
        .limit(limit)
    )
    return [(plan, item, course) for plan, item, course in rows]


@dataclass(frozen=True)
class Event:
    """A withdrawal or objection from the consent ledger."""

    record: LedgerRecord
    course: str
    who: str


def withdrawals_and_objections(
    session: Session, registration_id: int, limit: int = 100
) -> list[Event]:
    """The newest withdrawals, objections and objections taken back."""
    records = list(
        session.scalars(
            select(LedgerRecord)
            .where(
                LedgerRecord.registration_id == registration_id,
                LedgerRecord.kind.in_(
                    [LedgerKind.WITHDRAWN, LedgerKind.OBJECTED, LedgerKind.OBJECTION_WITHDRAWN]
                ),
            )
            .order_by(LedgerRecord.seq.desc())
            .limit(limit)
        )
    )
    people = _names(session, {r.subject for r in records})
    courses = {
        course_id: title
        for course_id, title in session.execute(
            select(Course.id, Course.title).where(Course.id.in_({r.course_id for r in records}))
        )
    }
    return [
        Event(r, courses.get(r.course_id, ""), people.get(r.subject, r.subject)) for r in records
    ]


def _names(session: Session, subjects: set[str]) -> dict[str, str]:
    ids = [int(s.split(":", 1)[1]) for s in subjects if s.startswith("person:")]
    return {
        f"person:{p.id}": p.name or p.sub
        for p in session.scalars(select(Person).where(Person.id.in_(ids)))
    }


# --- pending consents per course ------------------------------------------------------------


@dataclass(frozen=True)
class CoursePending:
    course: Course
    pending: int
    items: int  # items with at least one unanswered request


def pending_by_course(session: Session, registration_id: int) -> list[CoursePending]:
    """Per course of the registration: requests nobody answered yet, on open items."""
    request_ids = (
        select(ConsentRequest.id)
        .join(Item, Item.id == ConsentRequest.item_id)
        .where(
            Item.course_id.in_(_courses(registration_id)),
            Item.state != ItemState.CANCELLED,
            Item.removed_at.is_(None),
        )
    )
    found = statuses(session, request_ids)
    pending: Counter[int] = Counter()
    items: dict[int, set[int]] = {}
    rows = session.execute(
        select(ConsentRequest.id, Item.id, Item.course_id)
        .join(Item, Item.id == ConsentRequest.item_id)
        .where(ConsentRequest.id.in_(request_ids))
    )
    for request_id, item_id, course_id in rows:
        if found.get(request_id, PENDING).state is RequestState.PENDING:
            pending[course_id] += 1
            items.setdefault(course_id, set()).add(item_id)
    courses = session.scalars(select(Course).where(Course.id.in_(list(pending))))
    return sorted(
        (CoursePending(c, pending[c.id], len(items[c.id])) for c in courses),
        key=lambda p: (-p.pending, p.course.title),
    )


# --- access and erasure requests ------------------------------------------------------------


def privacy_requests(
    session: Session, registration_id: int, limit: int = 100
) -> list[PrivacyRequest]:
    """The newest access and erasure requests with their outcomes."""
    return list(
        session.scalars(
            select(PrivacyRequest)
            .where(PrivacyRequest.registration_id == registration_id)
            .options(
                selectinload(PrivacyRequest.outcomes),
                selectinload(PrivacyRequest.subject),
                selectinload(PrivacyRequest.requester),
            )
            .order_by(PrivacyRequest.id.desc())
            .limit(limit)
        )
    )


def requests_about(session: Session, person_ids: list[int]) -> list[PrivacyRequest]:
    """The requests about these people (their own page)."""
    return list(
        session.scalars(
            select(PrivacyRequest)
            .where(PrivacyRequest.subject_id.in_(person_ids))
            .options(selectinload(PrivacyRequest.outcomes), selectinload(PrivacyRequest.subject))
            .order_by(PrivacyRequest.id.desc())
        )
    )


# --- audit log search -----------------------------------------------------------------------


class BadFilter(BadRequest):
    reason = _("A filter of the audit log search is not valid.")


class BadCourse(BadFilter):
    reason = _("Choose a course of this institution.")


class BadPerson(BadFilter):
    reason = _("No person with this user id is known to this institution.")


class BadItem(BadFilter):
    reason = _("No recording or stream with this number is known to this institution.")


class BadDate(BadFilter):
    reason = _("Write dates as YYYY-MM-DD, with the first date not after the last.")


class BadKind(BadFilter):
    reason = _("An event kind has letters, digits, dots and dashes only (at most 64).")


class BadCursor(BadFilter):
    reason = _("The page link is not valid. Start the search again.")


@dataclass(frozen=True)
class AuditFilter:
    """A validated audit log search (see :func:`parse_filter`)."""

    course_id: int | None = None
    person: Person | None = None
    item_id: int | None = None
    kind: str | None = None  # exact, or a prefix ending in "." (e.g. "consent.")
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    after: tuple[dt.datetime, int] | None = None  # keyset cursor: (at, id) of the last row
    limit: int = PAGE_SIZE

    def args(self) -> dict[str, str]:
        """The query-string form of this filter (without the cursor)."""
        out = {
            "course": "" if self.course_id is None else str(self.course_id),
            "person": "" if self.person is None else self.person.sub,
            "item": "" if self.item_id is None else str(self.item_id),
            "kind": self.kind or "",
            "since": "" if self.since is None else self.since.isoformat(),
            "until": "" if self.until is None else self.until.isoformat(),
        }
        return {k: v for k, v in out.items() if v}


def _int(raw: str, error: BadFilter) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise error
    return int(raw)


def _date(raw: str) -> dt.date:
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadDate() from None


def encode_cursor(at: dt.datetime, event_id: int) -> str:
    raw = f"{at.isoformat()}|{event_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(raw: str) -> tuple[dt.datetime, int]:
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        at, _sep, event_id = decoded.partition("|")
        when = dt.datetime.fromisoformat(at)
        if when.tzinfo is None or not event_id.isdigit() or len(event_id) > 18:
            raise ValueError(decoded)
        return when, int(event_id)
    except (ValueError, UnicodeDecodeError):
        raise BadCursor() from None


def parse_filter(session: Session, registration_id: int, args: dict[str, str]) -> AuditFilter:
    """Validate a search from query arguments; refuses (400, with the reason) anything
    malformed or outside the registration. ``person`` is the platform's user id."""
    keys = ("course", "person", "item", "kind", "since", "until", "after", "limit")
    get = {k: (args.get(k) or "").strip() for k in keys}
    course_id = person = item_id = None
    if get["course"]:
        course_id = _int(get["course"], BadCourse())
        course = session.get(Course, course_id)
        if course is None or course.registration_id != registration_id:
            raise BadCourse()
    if get["person"]:
        if len(get["person"]) > 255:
            raise BadPerson()
        person = session.scalar(
            select(Person).where(
                Person.registration_id == registration_id, Person.sub == get["person"]
            )
        )
        if person is None:
            raise BadPerson()
    if get["item"]:
        item_id = _int(get["item"], BadItem())
        owner = session.scalar(
            select(Course.registration_id)
            .join(Item, Item.course_id == Course.id)
            .where(Item.id == item_id)
        )
        if owner != registration_id:
            raise BadItem()
    kind = get["kind"] or None
    if kind is not None and (
        len(kind) > 64 or not all(ch.isascii() and (ch.isalnum() or ch in ".-_") for ch in kind)
    ):
        raise BadKind()
    since = _date(get["since"]) if get["since"] else None
    until = _date(get["until"]) if get["until"] else None
    if since and until and since > until:
        raise BadDate()
    after = _cursor(get["after"]) if get["after"] else None
    limit = _int(get["limit"], BadFilter()) if get["limit"] else PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadFilter()
    return AuditFilter(course_id, person, item_id, kind, since, until, after, limit)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_cursor: str | None
    filters: AuditFilter = field(default_factory=AuditFilter)


def audit_search(session: Session, registration_id: int, f: AuditFilter) -> AuditPage:
    """One page of the registration's audit events matching ``f``, newest first, by keyset
    (``at``, ``id``): each page costs about the same whatever the log's size, given the
    indexes of migration 0007 (course+kind+at, actor+at, subject+at, registration+at,
    kind+at).

    A person is named in events two ways (as the one who acted, or as what an event is
    about): each way is its own index-ordered page, and the page is the newest of both, so a
    long personal history is never read whole."""
    where: list[ColumnElement[bool]] = []
    if f.course_id is not None:
        where.append(AuditEvent.course_id == f.course_id)
    if f.item_id is not None:
        where.append(AuditEvent.subject == f"item:{f.item_id}")
    if f.course_id is None and f.person is None and f.item_id is None:
        # no filter that pins the registration: events of it, or of one of its courses
        where.append(
            or_(
                AuditEvent.registration_id == registration_id,
                AuditEvent.course_id.in_(_courses(registration_id)),
            )
        )
    if f.kind is not None:
        if f.kind.endswith("."):
            where.append(AuditEvent.kind.startswith(f.kind, autoescape=True))
        else:
            where.append(AuditEvent.kind == f.kind)
    if f.since is not None:
        where.append(AuditEvent.at >= _day_start(f.since))
    if f.until is not None:
        where.append(AuditEvent.at < _day_start(f.until + dt.timedelta(days=1)))
    if f.after is not None:
        at, event_id = f.after
        where.append(
            tuple_(AuditEvent.at, AuditEvent.id)
            < tuple_(literal(at, UTCDateTime()), literal(event_id, Integer()))
        )
    newest = (AuditEvent.at.desc(), AuditEvent.id.desc())
    query = select(AuditEvent).where(*where)
    if f.person is not None:
        ways = (
            AuditEvent.actor == f"{f.person.registration_id}:{f.person.sub}",
            AuditEvent.subject == f"person:{f.person.id}",
        )
        pages = [
            select(AuditEvent.id).where(way, *where).order_by(*newest).limit(f.limit + 1).subquery()
            for way in ways
        ]
        ids = union_all(*(select(page.c.id) for page in pages))
        query = select(AuditEvent).where(AuditEvent.id.in_(ids))
    events = list(session.scalars(query.order_by(*newest).limit(f.limit + 1)))
    more = len(events) > f.limit
    events = events[: f.limit]
    cursor = encode_cursor(events[-1].at, events[-1].id) if more and events else None
    return AuditPage(events, cursor, f)


def event_row(e: AuditEvent) -> dict[str, Any]:
    """An audit event as plain data (pages, exports)."""
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "kind": e.kind,
        "actor": e.actor,
        "course_id": e.course_id,
        "subject": e.subject,
        "pack_version": e.pack_version,
        "data": e.data,
    }
