"""ffprobe and ffmpeg: what a file really is (never what its name or header claims), whether it
stays within the limits, and its conversion to MP4 (H.264/AAC, faststart) with a poster.

Every call runs with a time limit; a file whose probe or conversion fails is refused with a
reason the web layer translates.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lti_tool.errors import BadRequest, UpstreamError, _

PROBE_SECONDS = 30
# ffprobe's format names of the containers the tool accepts (setting RECORDING_FORMATS).
FORMAT_NAMES = {
    "mp4": "mov,mp4,m4a,3gp,3g2,mj2",
    "mov": "mov,mp4,m4a,3gp,3g2,mj2",
    "m4a": "mov,mp4,m4a,3gp,3g2,mj2",
    "webm": "matroska,webm",
    "mkv": "matroska,webm",
    "ogg": "ogg",
    "flv": "flv",  # live streams recorded by nginx-rtmp (never accepted as an upload)
}


class NotMedia(BadRequest):
    status = 415
    reason = _("This file is not a video or audio recording the tool can read.")


class UnsupportedFormat(BadRequest):
    status = 415
    reason = _("This kind of video file is not accepted here. Use MP4 or WebM.")


class TooLong(BadRequest):
    status = 413
    reason = _("This recording is longer than allowed.")


class TooLarge(BadRequest):
    status = 413
    reason = _("This file is larger than allowed.")


class TooManyPixels(BadRequest):
    status = 413
    reason = _("The picture of this recording is larger than allowed.")


class ConversionFailed(UpstreamError):
    status = 422
    reason = _("The recording could not be converted. The file may be damaged.")


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_seconds: int
    max_pixels: int
    formats: frozenset[str]
    timeout: int


@dataclass(frozen=True)
class Probe:
    """What ffprobe found in a file."""

    format: str  # ffprobe's format_name
    duration: float
    width: int | None
    height: int | None
    video_codec: str | None
    audio_codec: str | None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def playable_as_is(self) -> bool:
        """An MP4 (or a recorded live stream, FLV) with H.264 and AAC (or no sound): only
        copied into MP4 with faststart, not re-encoded."""
        return (
            (self.format.startswith("mov,mp4") or self.format == "flv")
            and self.video_codec in {"h264", None}
            and self.audio_codec in {"aac", None}
        )


def _number(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def probe(path: Path, limits: Limits) -> Probe:
    """Probe ``path``; refuse what is not media, not an accepted container or over a limit."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed program, our own file
            [  # noqa: S607
                "ffprobe",
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                str(path),
            ],
            capture_output=True,
            timeout=PROBE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise NotMedia(detail="ffprobe timed out") from exc
    if done.returncode != 0:
        raise NotMedia(detail=done.stderr.decode(errors="replace")[:200])
    try:
        info = json.loads(done.stdout)
    except ValueError as exc:
        raise NotMedia(detail="ffprobe output unreadable") from exc
    fmt = info.get("format") or {}
    name = str(fmt.get("format_name", ""))
    allowed = {FORMAT_NAMES[f] for f in limits.formats if f in FORMAT_NAMES}
    streams = info.get("streams") or []
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise NotMedia(detail=f"no audio or video stream in {name}")
    if name not in allowed:
        raise UnsupportedFormat(detail=name)
    duration = _number(fmt.get("duration"))
    if duration is None:  # browser WebM carries no duration in its header
        durations = [_number(s.get("duration")) for s in streams]
        duration = max((d for d in durations if d is not None), default=None)
    width = int(video["width"]) if video and video.get("width") else None
    height = int(video["height"]) if video and video.get("height") else None
    if width is not None and height is not None and width * height > limits.max_pixels:
        raise TooManyPixels(detail=f"{width}x{height}")
    if duration is not None and duration > limits.max_seconds:
        raise TooLong(detail=f"{duration:.0f} s")
    return Probe(
        format=name,
        duration=duration or 0.0,
        width=width,
        height=height,
        video_codec=str(video.get("codec_name")) if video else None,
        audio_codec=str(audio.get("codec_name")) if audio else None,
    )


def _run(args: list[str], timeout: int) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - fixed program, our own files
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],  # noqa: S607
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ConversionFailed(detail="ffmpeg timed out") from exc
    if done.returncode != 0:
        raise ConversionFailed(detail=done.stderr.decode(errors="replace")[-300:])


def convert(source: Path, target: Path, found: Probe, limits: Limits) -> None:
    """``source`` as MP4 at ``target``: H.264/AAC, moov atom first (seekable while loading).
    ffmpeg stops at the duration limit and the size limit whatever the header claimed."""
    caps = ["-t", str(limits.max_seconds), "-fs", str(limits.max_bytes)]
    if found.playable_as_is:
        codecs = ["-c", "copy"]
    else:
        codecs = []
        if found.has_video:
            codecs += [
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "23",
                "-pix_fmt",
                "yuv420p",
                # even dimensions, as H.264 with yuv420p needs
                "-vf",
                "scale=trunc(iw/2)*2:trunc(ih/2)*2",
            ]
        if found.audio_codec is not None:
            codecs += ["-c:a", "aac", "-b:a", "128k"]
    _run(
        [
            "-i",
            str(source),
            "-map",
            "0:v:0?",
            "-map",
            "0:a:0?",
            *codecs,
            *caps,
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            str(target),
        ],
        limits.timeout,
    )
    if not target.exists() or target.stat().st_size == 0:
        raise ConversionFailed(detail="empty output")


def poster(source: Path, target: Path, duration: float, limits: Limits) -> None:
    """A JPEG frame from early in the recording (a second in, or halfway if shorter)."""
    at = min(1.0, duration / 2) if duration else 0.0
    _run(
        [
            "-ss",
            f"{at:.2f}",
            "-i",
            str(source),
            "-frames:v",
            "1",
            "-vf",
            "scale='min(640,iw)':-2",
            "-q:v",
            "4",
            str(target),
        ],
        min(limits.timeout, 120),
    )
