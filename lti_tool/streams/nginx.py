"""The nginx configuration the built-in provider needs: RTMP ingest whose publishes the tool
decides (``on_publish``), HLS with 1 s fragments, served only through ``secure_link`` paths.

``render`` is the one source: ``lti-tool nginx-config`` writes it for the demo and the tests,
and ``deploy/nginx/lti-tool-streams.conf`` is generated with production paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
_SAFE = re.compile(r"^[^\s;{}\"'$\\]+$")
_PART = "[A-Za-z0-9_-]{1,64}"
UPDATE_SECONDS = 10  # how often nginx asks whether a live publish may go on
_LOCATION = (
    "^/hls/(?<ltt_sig>[A-Za-z0-9_-]{22})/(?<ltt_expires>[0-9]{1,12})"
    f"/(?<ltt_viewer>{_PART})/(?<ltt_stream>{_PART})/(?<ltt_file>{_PART}\\.(m3u8|ts))$"
)
_MEDIA_LOCATION = (
    "^/media/(?<ltt_sig>[A-Za-z0-9_-]{22})/(?<ltt_expires>[0-9]{1,12})"
    f"/(?<ltt_viewer>{_PART})/(?<ltt_rec>{_PART})/(?<ltt_file>[a-z0-9_-]{{1,32}}\\.(mp4|jpg))$"
)


@dataclass(frozen=True)
class NginxLayout:
    """Where nginx listens and keeps its files."""

    rtmp_listen: str = "1935"
    http_listen: str = "127.0.0.1:8088"
    hls_path: str = "/var/lib/lti-tool/hls"
    work_dir: str | None = None  # pid, logs and temp files here (tests, demo); None: system's
    module: str | None = RTMP_MODULE  # None: loaded by the system (modules-enabled)
    user: str | None = None  # workers' user when started as root (None: nginx's default)
    media_path: str | None = None  # local recordings storage (``<media root>/store``); None: none
    record_path: str = "/var/lib/lti-tool/records"  # where the ``rec`` application records


def _safe(label: str, value: str) -> str:
    if not _SAFE.match(value):
        raise ValueError(f"{label} {value!r} cannot be put into an nginx configuration")
    return value


RECORDING_APP = "rec"  # the RTMP application of streams that are also recorded


def _application(name: str, callbacks: str, hls: str, records: str | None) -> str:
    """One RTMP application: publishes decided by the tool, HLS out to ``hls`` (nginx-rtmp
    wants one folder per application); with ``records`` the whole stream is also recorded
    there and handed to the tool when it ends."""
    if records is None:
        recording = "      record off;"
    else:
        recording = f"""      record all;                     # the decision says: recorded
      record_path {records};
      record_unique on;
      on_record_done {callbacks}/on_record_done;    # the tool takes the file as a recording"""
    return f"""    application {name} {{
      live on;
{recording}
      deny play all;                  # viewers only get signed HLS, never RTMP
      notify_method post;
      on_publish {callbacks}/on_publish;            # 2xx: the tool accepted the key
      on_publish_done {callbacks}/on_publish_done;  # the tool marks the stream ended
      on_update {callbacks}/on_update;              # 403: key replaced or item no longer
      notify_update_timeout {UPDATE_SECONDS}s;      # allowed; the encoder is cut off
      hls on;
      hls_path {hls};
      hls_nested on;
      hls_fragment 1s;
      hls_playlist_length 6s;
      hls_cleanup on;
    }}"""


def render(
    layout: NginxLayout,
    *,
    tool_url: str,
    callback_token: str,
    secret: str,
    allow_origin: str,
) -> str:
    """The whole nginx configuration (main context) for ``layout``.

    ``tool_url`` is where nginx reaches the tool for callbacks; ``allow_origin`` the tool's
    public origin (players fetch HLS from there, CORS); ``secret`` the link secret."""
    tool = _safe("tool URL", tool_url.rstrip("/"))
    callbacks = f"{tool}/streams/nginx/{_safe('callback token', callback_token)}"
    secret = _safe("secret", secret)
    origin = _safe("origin", allow_origin.rstrip("/"))
    if urlsplit(tool).scheme not in {"http", "https"}:
        raise ValueError("the tool URL must be http(s)")
    hls = _safe("HLS path", layout.hls_path.rstrip("/"))
    records = _safe("record path", layout.record_path.rstrip("/"))
    media = ""
    if layout.media_path:
        store = _safe("media path", layout.media_path.rstrip("/"))
        media = f"""
      # /media/<sig>/<expires>/<viewer>/<recording>/<file>: recordings in local storage, md5
      # over expires, viewer, recording, file and the secret (lti_tool/recordings/links.py);
      # nginx answers range requests itself (seeking).
      location ~ "{_MEDIA_LOCATION}" {{
        secure_link $ltt_sig,$ltt_expires;
        secure_link_md5 "$ltt_expires/$ltt_viewer/$ltt_rec/$ltt_file {secret}";
        if ($secure_link = "") {{ return 403; }}
        if ($secure_link = "0") {{ return 410; }}
        add_header Access-Control-Allow-Origin "{origin}" always;
        add_header Cache-Control "private, no-store" always;
        add_header Content-Disposition "inline" always;
        add_header X-Content-Type-Options "nosniff" always;
        alias {store}/rec/$ltt_rec/$ltt_file;
      }}
"""
    head = []
    temp = ""
    if layout.module:
        head.append(f"load_module {_safe('module', layout.module)};")
    else:  # Debian's packages enable the RTMP module there
        head.append("include /etc/nginx/modules-enabled/*.conf;")
    if layout.user:
        head.append(f"user {_safe('user', layout.user)};")
    if layout.work_dir:
        work = _safe("work dir", layout.work_dir.rstrip("/"))
        head += [f"pid {work}/nginx.pid;", f"error_log {work}/error.log warn;"]
        temp = "".join(
            f"    {kind}_temp_path {work}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        temp += f"    access_log {work}/access.log;\n"
    return f"""# Generated by `lti-tool nginx-config`; do not edit by hand, generate it again.
{chr(10).join(head)}
worker_processes auto;
events {{ worker_connections 4096; }}

rtmp {{
  server {{
    listen {_safe("RTMP listen", layout.rtmp_listen)};
    chunk_size 4096;
{_application("live", callbacks, hls, None)}
{_application(RECORDING_APP, callbacks, f"{hls}/{RECORDING_APP}", records)}
  }}
}}

http {{
{temp}    sendfile on;
    tcp_nopush on;
    server_tokens off;
    types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; video/mp4 mp4; image/jpeg jpg; }}
    default_type application/octet-stream;

    server {{
      listen {_safe("HTTP listen", layout.http_listen)};

      # /hls/<sig>/<expires>/<viewer>/<stream>/<file>: md5 over expires, viewer, stream and
      # the secret (see lti_tool/streams/signing.py); segments inherit the path's token.
      location ~ "{_LOCATION}" {{
        secure_link $ltt_sig,$ltt_expires;
        secure_link_md5 "$ltt_expires/$ltt_viewer/$ltt_stream {secret}";
        if ($secure_link = "") {{ return 403; }}
        if ($secure_link = "0") {{ return 410; }}
        add_header Access-Control-Allow-Origin "{origin}" always;
        add_header Cache-Control "no-store" always;
        root {hls};                     # live streams, then recorded ones (their own folder)
        try_files /$ltt_stream/$ltt_file /{RECORDING_APP}/$ltt_stream/$ltt_file =404;
      }}
{media}
      location / {{ return 404; }}
    }}
}}
"""


PRODUCTION = NginxLayout(module=None, media_path="/var/lib/lti-tool/media/store")
TEMPLATE_SECRET = "__LTI_TOOL_STREAM_SECRET_32_CHARACTERS_OR_MORE__"  # noqa: S105 - placeholder
TEMPLATE_TOKEN = "__CALLBACK_TOKEN__"  # noqa: S105 - placeholder
TEMPLATE_HEADER = """# Production template (placeholders instead of secrets). On the media server,
# generate the real file with the tool's settings instead:
#   lti-tool nginx-config --out /etc/nginx/nginx.conf
# It is a whole nginx.conf for the media server (RTMP in, signed HLS out): use it as the media
# host's nginx.conf, or run a second nginx with `nginx -c FILE` beside the system's one.
# Viewers fetch HLS from LTI_TOOL_HLS_URL (default <base url>/hls): either proxy /hls/ of the
# tool's TLS server to the HLS server below, or point LTI_TOOL_HLS_URL at a TLS media host.
# Recordings (local storage) likewise under /media/ (LTI_TOOL_MEDIA_URL, LTI_TOOL_MEDIA_ROOT).
# Create the HLS folder, its rec/ subfolder (recorded streams) and the record folder
# (LTI_TOOL_STREAM_RECORD_DIR, on the tool's machine too), writable by nginx's workers.
"""


def template(layout: NginxLayout = PRODUCTION, tool_url: str = "http://127.0.0.1:8000") -> str:
    """The production template in ``deploy/nginx/`` (placeholders instead of secrets)."""
    return TEMPLATE_HEADER + render(
        layout,
        tool_url=tool_url,
        callback_token=TEMPLATE_TOKEN,
        secret=TEMPLATE_SECRET,
        allow_origin="https://tool.example.org",
    )


def config_for(provider: object, layout: NginxLayout, *, tool_url: str, origin: str) -> str:
    """The configuration for the tool's configured nginx provider."""
    from lti_tool.streams.providers import NginxProvider, ProviderSettingsError

    if not isinstance(provider, NginxProvider):
        raise ProviderSettingsError("nginx-config needs the stream provider 'nginx'")
    return render(
        layout,
        tool_url=tool_url,
        callback_token=provider.callback_token(),
        secret=provider.secret,
        allow_origin=origin,
    )
