"""Imports every models module so ``Base.metadata`` knows all tables (Alembic, tests)."""

from lti_tool import store
from lti_tool.access import models as access_models
from lti_tool.audit import models as audit_models
from lti_tool.lti import models as lti_models

__all__ = ["access_models", "audit_models", "lti_models", "store"]
