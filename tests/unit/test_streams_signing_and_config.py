"""Signed HLS paths (as nginx ``secure_link`` checks them), the provider registry and its
settings, and the generated nginx configuration."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from lti_tool.config import load_settings
from lti_tool.errors import ConfigError
from lti_tool.streams import nginx, providers, signing

SECRET = "s" * 40


def test_signature_is_nginx_secure_link_md5() -> None:
    sig = signing.signature(SECRET, "abc", "p7", 1_900_000_000)
    raw = hashlib.md5(f"1900000000/p7/abc {SECRET}".encode()).digest()
    assert sig == base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert len(sig) == 22 and "=" not in sig


def test_a_signed_path_is_bound_to_stream_viewer_and_time() -> None:
    path = signing.signed_path(SECRET, "abc", "p7", 1000)
    assert path.endswith("/1000/p7/abc/index.m3u8")
    assert signing.verify(SECRET, path, 999)
    assert not signing.verify(SECRET, path, 1000)  # expired
    assert not signing.verify("t" * 40, path, 999)  # another secret
    assert not signing.verify(SECRET, path.replace("/p7/", "/p8/"), 999)  # another viewer
    assert not signing.verify(SECRET, path.replace("/abc/", "/abd/"), 999)  # another stream
    assert not signing.verify(SECRET, path.replace("/1000/", "/9999/"), 999)  # longer life
    sig = path.split("/")[1]
    tampered = ("A" if sig[0] != "A" else "B") + sig[1:]
    assert not signing.verify(SECRET, path.replace(sig, tampered), 999)
    # a segment under the same prefix is covered by the same token
    assert signing.verify(SECRET, path.replace("index.m3u8", "12.ts"), 999)


@pytest.mark.parametrize("bad", ["../x", "a/b", "a b", "", "x" * 65])
def test_unsafe_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        signing.signature(SECRET, bad, "p1", 1)


def _options(**change: object) -> dict[str, object]:
    return {
        "rtmp_url": "rtmp://media.example.org/live",
        "hls_url": "https://media.example.org/hls",
        "secret": SECRET,
        "link_seconds": 240,
        **change,
    }


def test_registry_builds_the_nginx_provider_by_name() -> None:
    assert "nginx" in providers.names()
    provider = providers.build("nginx", _options())
    assert isinstance(provider, providers.NginxProvider)
    ingest = provider.ingest("name1", "key1")
    assert ingest.server_url == "rtmp://media.example.org/live"
    assert ingest.push_url == "rtmp://media.example.org/live/name1?key=key1"
    playback = provider.playback("name1", "p3", now=1000)
    assert playback.expires == 1240
    assert playback.url == "https://media.example.org/hls" + signing.signed_path(
        SECRET, "name1", "p3", 1240
    )
    assert provider.accepts_callback(provider.callback_token())
    assert not provider.accepts_callback("nope")


@pytest.mark.parametrize(
    ("name", "options", "words"),
    [
        ("wowza", _options(), "unknown stream provider 'wowza'"),
        ("nginx", _options(colour="red"), "unknown setting\\(s\\) colour"),
        ("nginx", {"secret": SECRET}, "needs setting\\(s\\) hls_url, rtmp_url"),
        ("nginx", _options(link_seconds="240"), "must be int"),
        ("nginx", _options(link_seconds=True), "must be int"),
        ("nginx", _options(link_seconds=301), "between 30 and 300"),
        ("nginx", _options(secret="short"), "32 characters"),
        ("nginx", _options(rtmp_url="http://x/live"), "rtmp_url"),
        ("nginx", _options(hls_url="ftp://x/hls"), "hls_url"),
    ],
)
def test_bad_provider_settings_are_typed_errors(
    name: str, options: dict[str, object], words: str
) -> None:
    with pytest.raises(ConfigError, match=words) as raised:
        providers.build(name, options)
    expected = providers.UnknownProvider if name == "wowza" else providers.ProviderSettingsError
    assert isinstance(raised.value, expected)


DEV = {"LTI_TOOL_DEV": "1"}


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"LTI_TOOL_RTMP_URL": "http://x/live"}, "LTI_TOOL_RTMP_URL"),
        ({"LTI_TOOL_HLS_URL": "x/hls"}, "LTI_TOOL_HLS_URL"),
        ({"LTI_TOOL_STREAM_LINK_SECONDS": "600"}, "between 30 and 300"),
        ({"LTI_TOOL_STREAM_SECRET": "short"}, "at least 32"),
        ({"LTI_TOOL_STREAM_SECRET": "x" * 40 + ";"}, "without quotes"),
    ],
)
def test_stream_settings_are_checked(env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_settings({**DEV, **env})


def test_production_hls_must_be_https() -> None:
    base = {"LTI_TOOL_BASE_URL": "https://tool.example.org", "LTI_TOOL_SECRET_KEY": "x" * 40}
    with pytest.raises(ConfigError, match="HLS_URL must use https"):
        load_settings({**base, "LTI_TOOL_HLS_URL": "http://media.example.org/hls"})
    assert load_settings(base).hls_url is None  # default: <base url>/hls


def _render(tmp_path: Path, **change: str) -> str:
    layout = nginx.NginxLayout(
        rtmp_listen="127.0.0.1:19350",
        http_listen="127.0.0.1:18088",
        hls_path=str(tmp_path / "hls"),
        work_dir=str(tmp_path),
    )
    args = {
        "tool_url": "http://127.0.0.1:5000",
        "callback_token": "tok123",
        "secret": SECRET,
        "allow_origin": "http://127.0.0.1:5000",
        **change,
    }
    return nginx.render(layout, **args)


def test_generated_config_has_callbacks_hls_and_secure_link(tmp_path: Path) -> None:
    text = _render(tmp_path)
    for line in (
        f"load_module {nginx.RTMP_MODULE};",
        "application live {",
        "deny play all;",
        "on_publish http://127.0.0.1:5000/streams/nginx/tok123/on_publish;",
        "on_publish_done http://127.0.0.1:5000/streams/nginx/tok123/on_publish_done;",
        "hls on;",
        "hls_fragment 1s;",
        f"hls_path {tmp_path}/hls;",
        "secure_link $ltt_sig,$ltt_expires;",
        f'secure_link_md5 "$ltt_expires/$ltt_viewer/$ltt_stream {SECRET}";',
        'add_header Access-Control-Allow-Origin "http://127.0.0.1:5000" always;',
        f"client_body_temp_path {tmp_path}/client_body;",
    ):
        assert line in text, line


@pytest.mark.parametrize("field", ["secret", "tool_url", "callback_token"])
def test_config_refuses_values_that_would_break_out(tmp_path: Path, field: str) -> None:
    with pytest.raises(ValueError):
        _render(tmp_path, **{field: 'x"; return 200; #'})


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_generated_config(tmp_path: Path) -> None:
    (tmp_path / "hls").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(_render(tmp_path))
    result = subprocess.run(
        ["nginx", "-t", "-e", str(tmp_path / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_production_template_is_up_to_date() -> None:
    path = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "lti-tool-streams.conf"
    assert path.read_text() == nginx.template()
