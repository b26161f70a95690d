"""Where recordings are kept: the storage contract, a registry by name, typed errors.

The contract (:class:`Storage`): ``put(key, path)`` stores a local file under ``key``;
``delete(key)`` removes it and says whether it was there (deleting twice is no error);
``keys(prefix)`` lists what is stored under a prefix; ``local_path(key)`` is the file on this
machine (local disk only, for nginx); ``signed_url(key, seconds)`` a short-lived URL of the
storage itself (S3 only; local media is signed by nginx ``secure_link``, see ``links``).

Keys are ``rec/<random public id>/<file>``: nothing is reachable by a guessable path, and
local media lives outside the web root (default ``<instance>/media``).

Built-in: ``local`` (the default) and ``s3`` (boto3; bucket, prefix, server-side encryption).
Failures are typed: :class:`StorageUnavailable` (retry later, 503) and :class:`StorageFull`
(507); provider settings with an unknown key are refused like the stream providers'.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from lti_tool.config import Settings
from lti_tool.errors import ConfigError, UpstreamError, _

KEY = re.compile(r"^rec/[A-Za-z0-9_-]{16,32}/[a-z0-9_.-]{1,40}$")
PREFIX = re.compile(r"^rec/[A-Za-z0-9_-]{16,32}/$")


class StorageUnavailable(UpstreamError):
    """The media storage cannot be reached or refused the operation; try again later."""

    status = 503
    reason = _("The storage for recordings cannot be reached right now. Try again later.")


class StorageFull(StorageUnavailable):
    status = 507
    reason = _("The storage for recordings is full. Ask the administrator to make room.")


class StorageSettingsError(ConfigError):
    """A storage's settings have an unknown key or a malformed value."""


def _check_key(key: str, pattern: re.Pattern[str] = KEY) -> str:
    if not pattern.match(key) or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Storage(ABC):
    """The contract every media storage fulfils (see the module docstring)."""

    name: ClassVar[str]
    option_types: ClassVar[Mapping[str, type]]

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(options) - set(cls.option_types))
        if unknown:
            raise StorageSettingsError(
                f"unknown setting(s) {', '.join(unknown)} for media storage {cls.name!r}; "
                f"known: {', '.join(sorted(cls.option_types))}"
            )
        for key, value in options.items():
            if value is not None and not isinstance(value, cls.option_types[key]):
                raise StorageSettingsError(f"setting {key!r} of {cls.name!r} has a wrong type")
        return dict(options)

    @abstractmethod
    def put(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at ``path`` under ``key`` (replacing what was there)."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove ``key``; True when something was removed."""

    @abstractmethod
    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (``rec/<public id>/``)."""

    def local_path(self, key: str) -> Path | None:
        """The file of ``key`` on this machine, when the storage is local."""
        return None

    def signed_url(self, key: str, seconds: int) -> str | None:
        """A short-lived URL of the storage itself, when it signs its own links."""
        return None

    @property
    def where(self) -> str:
        """Where the media is, for audit lines."""
        return self.name


class LocalStorage(Storage):
    """Files under ``root`` (outside the web root), written atomically, private to the tool
    and to nginx (0640)."""

    name = "local"
    option_types: ClassVar[Mapping[str, type]] = {"root": str}

    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, path: Path, content_type: str) -> None:
        target = self._path(key)
        tmp = target.with_name(target.name + ".part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, tmp)  # same file system: no copy
            except OSError:
                shutil.copyfile(path, tmp)
            tmp.chmod(0o644 if os.geteuid() == 0 else 0o640)
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(detail=str(exc)) from exc
            raise StorageUnavailable(detail=str(exc)) from exc

    def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageUnavailable(detail=str(exc)) from exc
        with contextlib.suppress(OSError):  # not empty yet
            path.parent.rmdir()
        return True

    def keys(self, prefix: str) -> list[str]:
        folder = self.root / _check_key(prefix, PREFIX)
        if not self.root.is_dir():
            raise StorageUnavailable(detail=f"{self.root} is missing")
        if not folder.is_dir():
            return []
        return sorted(prefix + p.name for p in folder.iterdir() if p.is_file())

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    @property
    def where(self) -> str:
        return f"local disk {self.root}"


class S3Storage(Storage):
    """An S3-compatible bucket through boto3, objects under ``prefix``, server-side encrypted
    (``AES256`` or ``aws:kms`` with a key id; ``none`` where the store encrypts by itself)."""

    name = "s3"
    option_types: ClassVar[Mapping[str, type]] = {
        "bucket": str,
        "prefix": str,
        "endpoint_url": str,
        "region": str,
        "sse": str,
        "kms_key_id": str,
    }

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        sse: str = "AES256",
        kms_key_id: str | None = None,
    ):
        import boto3
        from botocore.config import Config

        if sse not in {"AES256", "aws:kms", "none"}:
            raise StorageSettingsError("sse must be AES256, aws:kms or none")
        self.bucket = bucket
        self.prefix = prefix
        self.sse = sse
        self.kms_key_id = kms_key_id
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region or "us-east-1",
            config=Config(
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 2, "mode": "standard"},
                signature_version="s3v4",
                # an S3-compatible store on its own host (MinIO, Ceph, moto): path-style URLs
                s3={"addressing_style": "path" if endpoint_url else "auto"},
            ),
        )

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def _fail(self, exc: Exception) -> StorageUnavailable:
        code = ""
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            code = str(response.get("Error", {}).get("Code", ""))
        if code in {"QuotaExceeded", "EntityTooLarge", "InsufficientStorage"}:
            return StorageFull(detail=f"{code}: {exc}")
        return StorageUnavailable(detail=f"{type(exc).__name__}: {exc}"[:300])

    def put(self, key: str, path: Path, content_type: str) -> None:
        extra: dict[str, str] = {"ContentType": content_type}
        if self.sse != "none":
            extra["ServerSideEncryption"] = self.sse
        if self.sse == "aws:kms" and self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        try:
            self.client.upload_file(str(path), self.bucket, self._key(key), ExtraArgs=extra)
        except Exception as exc:
            raise self._fail(exc) from exc

    def delete(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            response = getattr(exc, "response", None)
            if isinstance(response, dict) and str(response.get("Error", {}).get("Code")) in {
                "404",
                "NoSuchKey",
                "NotFound",
            }:
                return False
            raise self._fail(exc) from exc
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise self._fail(exc) from exc
        return True

    def keys(self, prefix: str) -> list[str]:
        _check_key(prefix, PREFIX)
        found: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            for page in pages:
                found += [obj["Key"][len(self.prefix) :] for obj in page.get("Contents", [])]
        except Exception as exc:
            raise self._fail(exc) from exc
        return sorted(found)

    def signed_url(self, key: str, seconds: int) -> str | None:
        try:
            url: str = self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self._key(key)},
                ExpiresIn=seconds,
            )
        except Exception as exc:
            raise self._fail(exc) from exc
        return url

    @property
    def where(self) -> str:
        return f"s3 bucket {self.bucket}"


_REGISTRY: dict[str, type[Storage]] = {"local": LocalStorage, "s3": S3Storage}


def media_root(settings: Settings) -> Path:
    return Path(settings.media_root or Path(settings.instance_path) / "media")


def uploads_dir(settings: Settings) -> Path:
    """Partial uploads: always on local disk (assembled before they go to storage)."""
    return media_root(settings) / "uploads"


def work_dir(settings: Settings) -> Path:
    """Scratch space of conversions."""
    return media_root(settings) / "work"


def options(settings: Settings, name: str | None = None) -> dict[str, Any]:
    if (name or settings.media_storage) == "local":
        return {"root": str(media_root(settings) / "store")}
    found = {
        "bucket": settings.s3_bucket,
        "prefix": settings.s3_prefix,
        "endpoint_url": settings.s3_endpoint_url,
        "region": settings.s3_region,
        "sse": settings.s3_sse,
        "kms_key_id": settings.s3_kms_key_id,
    }
    return {k: v for k, v in found.items() if v is not None}


def build(name: str, opts: Mapping[str, Any]) -> Storage:
    cls = _REGISTRY.get(name)
    if cls is None:
        raise StorageSettingsError(f"unknown media storage {name!r}; known: local, s3")
    return cls(**cls.check_options(opts))


def storage_for(settings: Settings, name: str | None = None) -> Storage:
    """The storage the settings configure (or the one named ``name``, e.g. where an older
    recording was stored before the setting changed)."""
    name = name or settings.media_storage
    return build(name, options(settings, name))
