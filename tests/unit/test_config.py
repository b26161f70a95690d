"""Settings: defaults, environment, and clear refusals of unknown or malformed values."""

from __future__ import annotations

import pytest

from lti_tool.config import load_settings
from lti_tool.errors import ConfigError

DEV = {"LTI_TOOL_DEV": "1"}


def test_defaults_in_dev_mode() -> None:
    s = load_settings(DEV)
    assert s.database_url.startswith("sqlite:///") and s.redis_url is None
    assert s.launch_leeway_seconds == 60 and s.default_locale == "nl"


def test_environment_overrides() -> None:
    s = load_settings(
        {
            **DEV,
            "LTI_TOOL_LAUNCH_LEEWAY_SECONDS": "120",
            "LTI_TOOL_REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert s.launch_leeway_seconds == 120 and s.redis_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    "env, words",
    [
        ({"LTI_TOOL_DATABSE_URL": "x"}, "unknown setting LTI_TOOL_DATABSE_URL"),
        ({"LTI_TOOL_DEV": "maybe"}, "LTI_TOOL_DEV='maybe' is malformed"),
        ({"LTI_TOOL_LAUNCH_LEEWAY_SECONDS": "600"}, "between 0 and 180"),
        ({"LTI_TOOL_LAUNCH_LEEWAY_SECONDS": "ten"}, "malformed"),
        ({"LTI_TOOL_BASE_URL": "tool.example.org"}, "must be an origin"),
        ({"LTI_TOOL_DATABASE_URL": "mysql://x"}, "sqlite:// or postgresql://"),
        ({"LTI_TOOL_SCHOOL_YEAR_END": "31-07"}, "MM-DD"),
        ({"LTI_TOOL_DEFAULT_LOCALE": "de"}, "'nl' or 'en'"),
    ],
)
def test_bad_settings_stop_start_up_with_the_name(env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        load_settings({**DEV, **env})


def test_production_needs_https_and_a_secret() -> None:
    with pytest.raises(ConfigError, match="https"):
        load_settings({"LTI_TOOL_SECRET_KEY": "x" * 40})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"LTI_TOOL_BASE_URL": "https://tool.example.org"})
    ok = load_settings(
        {"LTI_TOOL_BASE_URL": "https://tool.example.org", "LTI_TOOL_SECRET_KEY": "x" * 40}
    )
    assert ok.https_only
