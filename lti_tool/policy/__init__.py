"""The guideline as data and a pure decision over it.

A pack (YAML) holds the rules, conditions, legal bases, retention rules, audiences and texts;
``evaluate(facts, pack, settings)`` returns the ``Decision`` and its reasons without any I/O.
"""

from lti_tool.policy.decision import (
    Consenter,
    Decision,
    LegalBasis,
    Outcome,
    Reason,
    Retention,
    RetentionKind,
    Visibility,
)
from lti_tool.policy.evaluate import evaluate
from lti_tool.policy.facts import (
    Audience,
    Facts,
    FactsError,
    InstitutionSettings,
    Made,
    Purpose,
    Recognisable,
    TeacherLocation,
)
from lti_tool.policy.loading import DEFAULT_PACK_PATH, default_pack, load_pack, parse_pack
from lti_tool.policy.pack import Condition, Pack, Rule
from lti_tool.policy.reading import PackError, Problem
from lti_tool.policy.texts import Text

__all__ = [
    "DEFAULT_PACK_PATH",
    "Audience",
    "Condition",
    "Consenter",
    "Decision",
    "Facts",
    "FactsError",
    "InstitutionSettings",
    "LegalBasis",
    "Made",
    "Outcome",
    "Pack",
    "PackError",
    "Problem",
    "Purpose",
    "Reason",
    "Recognisable",
    "Retention",
    "RetentionKind",
    "Rule",
    "TeacherLocation",
    "Text",
    "Visibility",
    "default_pack",
    "evaluate",
    "load_pack",
    "parse_pack",
]
