"""Imports every models module so ``Base.metadata`` knows all tables (Alembic, tests)."""

from lti_tool import store
from lti_tool.access import models as access_models
from lti_tool.audit import models as audit_models
from lti_tool.consent import models as consent_models
from lti_tool.deletion import models as deletion_models
from lti_tool.institution import models as institution_models
from lti_tool.items import models as item_models
from lti_tool.jobs import models as job_models
from lti_tool.lti import models as lti_models
from lti_tool.privacy import models as privacy_models
from lti_tool.recordings import models as recording_models
from lti_tool.streams import models as stream_models

__all__ = [
    "access_models",
    "audit_models",
    "consent_models",
    "deletion_models",
    "institution_models",
    "item_models",
    "job_models",
    "lti_models",
    "privacy_models",
    "recording_models",
    "store",
    "stream_models",
]
