"""G3.3: when a change would take an item that asked consent beyond what was consented to.

Pure: the caller resolves both audiences to person ids with ``lti_tool.access.audience``.
"""

from __future__ import annotations

from lti_tool.items.forms import Setup
from lti_tool.items.models import AudienceScope, Item
from lti_tool.policy import Audience

#: Audiences from narrow to wide, in the order ``lti_tool.policy.Audience`` declares them:
#: assessed < class < intervision < cohort < institution < public.
AUDIENCE_ORDER: tuple[Audience, ...] = tuple(Audience)


def widens(item: Item, setup: Setup, *, before: set[int], after: set[int]) -> bool:
    """Whether ``setup`` reaches beyond what ``item`` was set up (and consented) for.

    It does when the purpose changes (consent covers one purpose), the named audience moves up
    ``AUDIENCE_ORDER``, anyone joins the people who can watch (``before`` and ``after`` are
    person ids), the whole course replaces part of it, or other sections, groups or students
    of the same kind are added (even ones without members yet).
    """
    if setup.facts.purpose is not item.purpose:
        return True
    if AUDIENCE_ORDER.index(setup.facts.audience) > AUDIENCE_ORDER.index(item.audience):
        return True
    if after - before:
        return True
    if item.audience_scope is AudienceScope.COURSE:
        return False
    if setup.scope is AudienceScope.COURSE:
        return True
    if setup.scope is item.audience_scope:
        old = {e.group_id or e.person_id for e in item.audience_entries}
        return not (setup.group_ids | setup.person_ids) <= old
    return False
