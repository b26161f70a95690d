"""The teacher's yearly review of an item (G4.2): "keep it for another year?"."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.deletion.dates import NotUnderReview, answer_review, under_review
from lti_tool.deletion.queries import Notices, notices
from lti_tool.errors import BadRequest, Forbidden, _
from lti_tool.institution.queries import today
from lti_tool.items.models import Item
from lti_tool.items.queries import get_item
from lti_tool.lti.context import LaunchContext
from lti_tool.policy import RetentionKind
from lti_tool.retention.schedule import review_deadline
from lti_tool.web.lifecycle import commit, db_session, runtime
from lti_tool.web.sessions import launch_required, launched_course

bp = Blueprint("retention", __name__)


def course_notices(course_id: int) -> Notices:
    """The retention notices of a course for its teachers' page."""
    settings = runtime().settings
    return notices(db_session(), course_id, today(settings), grace_days=settings.review_grace_days)


def _review_item(item_id: int) -> tuple[LaunchContext, Item]:
    ctx: LaunchContext = g.launch
    if not ctx.is_teacher:
        raise Forbidden(_("Only teachers of this course can review its recordings and streams."))
    item = get_item(db_session(), launched_course().id, item_id)
    if not under_review(item, today(runtime().settings)):
        raise NotUnderReview()
    return ctx, item


@bp.route("/s/<sid>/items/<int:item_id>/review", methods=["GET", "POST"])
@launch_required
def review(item_id: int) -> Response | str:
    """Ask whether the item is still needed; keep it a year more, or let it be deleted."""
    ctx, item = _review_item(item_id)
    settings = runtime().settings
    graduation = item.retention_kind is RetentionKind.UNTIL_GRADUATION
    if request.method == "GET":
        assert item.review_on is not None
        return render_template(
            "retention/review.html",
            item=item,
            graduation=graduation,
            deadline=review_deadline(item.review_on, settings.review_grace_days),
        )
    answer = request.form.get("keep")
    if answer not in ("yes", "no") or (graduation and answer == "no"):
        raise BadRequest(_("Choose whether to keep it."))
    answer_review(
        db_session(),
        item,
        keep=answer == "yes",
        actor=f"{ctx.registration_id}:{ctx.user_sub}",
        today=today(settings),
    )
    commit()
    return redirect(url_for("web.home"), 303)
