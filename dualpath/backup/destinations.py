"""Where backups live: ``file:///dir`` or ``s3://bucket/prefix``, behind one small interface.

Names are relative ("<backup id>/manifest.json"). S3 credentials come from settings or
boto3's usual chain (env, profile, instance role) and never reach a message or a log.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from dualpath.errors import BackupFailed, ConnectionFailed, InputError, UsageError
from dualpath.redaction import redact

__all__ = ["Destination", "FileDestination", "S3Destination", "S3Settings", "open_destination", "sha256_of"]

log = logging.getLogger("dualpath.backup")
_CHUNK = 1024 * 1024
_MB = 1024 * 1024


class S3Settings(BaseModel):
    """S3 (or S3-compatible) access; None means boto3's default (AWS_* env, profile, role)."""

    model_config = ConfigDict(extra="forbid")

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    multipart_threshold_mb: int = Field(default=64, ge=5)  # S3's minimum part size is 5 MB
    multipart_chunk_mb: int = Field(default=16, ge=5)
    connect_timeout_s: float = Field(default=5, gt=0)
    read_timeout_s: float = Field(default=60, gt=0)
    max_attempts: int = Field(default=3, ge=1)


class Destination(Protocol):
    label: str  # for people; no secrets

    def check(self) -> None: ...  # reachable and writable, before anything runs

    def put_file(self, name: str, path: Path) -> None: ...

    def put_bytes(self, name: str, data: bytes) -> None: ...

    def get_file(self, name: str, path: Path) -> None: ...

    def read_chunks(self, name: str) -> Iterator[bytes]: ...

    def names(self) -> list[str]: ...

    def delete(self, names: list[str]) -> None: ...


def open_destination(url: str, s3: S3Settings | None = None) -> Destination:
    """``file:///abs/dir``, a plain directory path, or ``s3://bucket/prefix``."""
    if not url.strip():
        raise UsageError("no backup destination given", hint="pass --to file:///dir or --to s3://bucket/prefix")
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise UsageError(f"'{redact(url)}' names no bucket", hint="write s3://bucket/prefix")
        return S3Destination(parsed.netloc, parsed.path.strip("/"), s3 or S3Settings())
    if parsed.scheme == "file":
        return FileDestination(Path(unquote(parsed.netloc + parsed.path)))
    if parsed.scheme == "":
        return FileDestination(Path(url))
    raise UsageError(f"unsupported backup destination '{redact(url)}'",
                     hint="use file:///path/to/dir or s3://bucket/prefix")


def sha256_of(chunks: Iterator[bytes]) -> tuple[str, int]:
    """sha256 hex digest and size in bytes of a stream."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class FileDestination:
    def __init__(self, root: Path) -> None:
        self.root = root.expanduser()
        self.label = f"file://{self.root.resolve()}"

    def path(self, name: str) -> Path:
        return self.root / name

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create backup folder {self.root}: {exc.strerror}",
                             hint="choose a writable --to folder") from None
        if not os.access(self.root, os.W_OK):
            raise InputError(f"backup folder {self.root} is not writable", hint="choose a writable --to folder")

    def put_file(self, name: str, path: Path) -> None:
        self._write(name, lambda tmp: shutil.copyfile(path, tmp))

    def put_bytes(self, name: str, data: bytes) -> None:
        self._write(name, lambda tmp: Path(tmp).write_bytes(data))

    def _write(self, name: str, fill: Any) -> None:
        target = self.path(name)
        created = not target.parent.exists()
        tmp: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
            os.close(fd)
            fill(tmp)
            os.replace(tmp, target)  # never a half-written artifact under its real name
        except BaseException as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if created:  # a folder this write made and left empty is no trace of a backup
                self._remove_if_empty(target.parent)
            if isinstance(exc, OSError):  # disk full, quota, read-only: say where, not just errno
                raise BackupFailed(f"cannot write {name} to {self.label}: {exc.strerror or exc}",
                                   hint=f"free space at {self.root} (or fix its permissions), or set "
                                        "backup.destination to another place") from None
            raise

    def _remove_if_empty(self, folder: Path) -> None:
        try:
            if folder != self.root and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        except OSError:
            pass

    def get_file(self, name: str, path: Path) -> None:
        shutil.copyfile(self._existing(name), path)

    def read_chunks(self, name: str) -> Iterator[bytes]:
        with self._existing(name).open("rb") as f:
            while chunk := f.read(_CHUNK):
                yield chunk

    def _existing(self, name: str) -> Path:
        path = self.path(name)
        if not path.is_file():
            raise BackupFailed(f"{name} is missing from {self.label}",
                               hint="this backup is incomplete: take a new one (dualpath backup create), or use "
                                    "another (dualpath backup list)")
        return path

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                      if p.is_file() and not p.name.startswith(".partial-"))

    def delete(self, names: list[str]) -> None:
        for name in names:
            self.path(name).unlink(missing_ok=True)
            parent = self.path(name).parent
            if parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()


class S3Destination:
    def __init__(self, bucket: str, prefix: str, settings: S3Settings) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.settings = settings
        self.label = f"s3://{bucket}/{prefix}".rstrip("/")
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # only when S3 is used: boto3 costs ~0.3 s to import
            from botocore.config import Config

            s = self.settings
            session = boto3.session.Session(
                aws_access_key_id=s.access_key_id,
                aws_secret_access_key=s.secret_access_key.get_secret_value() if s.secret_access_key else None,
                aws_session_token=s.session_token.get_secret_value() if s.session_token else None,
                region_name=s.region)
            config = Config(connect_timeout=s.connect_timeout_s, read_timeout=s.read_timeout_s,
                            retries={"total_max_attempts": s.max_attempts, "mode": "standard"},  # initial + retries
                            s3={"addressing_style": s.addressing_style})
            self._client = session.client("s3", endpoint_url=s.endpoint_url, config=config)
        return self._client

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def check(self) -> None:
        self._call("reach bucket", lambda: self.client.head_bucket(Bucket=self.bucket))

    def put_file(self, name: str, path: Path) -> None:
        from boto3.s3.transfer import TransferConfig

        # upload_file switches to a parallel multipart upload above the threshold.
        config = TransferConfig(multipart_threshold=self.settings.multipart_threshold_mb * _MB,
                                multipart_chunksize=self.settings.multipart_chunk_mb * _MB)
        self._call(f"upload {name}",
                   lambda: self.client.upload_file(str(path), self.bucket, self.key(name), Config=config))

    def put_bytes(self, name: str, data: bytes) -> None:
        self._call(f"upload {name}",
                   lambda: self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=data))

    def get_file(self, name: str, path: Path) -> None:
        self._call(f"download {name}",
                   lambda: self.client.download_file(self.bucket, self.key(name), str(path)))

    def read_chunks(self, name: str) -> Iterator[bytes]:
        body = self._call(f"read {name}",
                          lambda: self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"])
        chunks = body.iter_chunks(_CHUNK)
        try:
            # the stream fails while it is read (cut connection, checksum mismatch): each read is an S3 call
            while (chunk := self._call(f"read {name}", lambda: next(chunks, None))) is not None:
                yield chunk
        finally:
            body.close()

    def names(self) -> list[str]:
        def collect() -> list[str]:
            start = f"{self.prefix}/" if self.prefix else ""
            found: list[str] = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
                found += [item["Key"][len(start):] for item in page.get("Contents", [])]
            return sorted(found)

        return self._call("list", collect)  # type: ignore[no-any-return]

    def delete(self, names: list[str]) -> None:
        for i in range(0, len(names), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": self.key(n)} for n in names[i:i + 1000]]
            self._call("delete", lambda b=batch: self.client.delete_objects(  # type: ignore[misc]
                Bucket=self.bucket, Delete={"Objects": b, "Quiet": True}))

    def _call(self, action: str, call: Any) -> Any:
        """Run one S3 call; turn botocore's errors into ours, naming the endpoint, never a secret."""
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ReadTimeoutError
        from botocore.exceptions import ConnectionError as BotoConnectionError

        try:
            return call()
        except ReadTimeoutError:
            raise ConnectionFailed(f"S3 at {self.endpoint} did not answer within {self.settings.read_timeout_s:g} s "
                                   f"({self.settings.max_attempts} attempt(s)) to {action} on {self.label}",
                                   hint="check the endpoint and the network, or raise backup.s3.read_timeout_s"
                                   ) from None
        except BotoConnectionError as exc:
            raise ConnectionFailed(f"cannot reach S3 at {self.endpoint} to {action} on {self.label} "
                                   f"({type(exc).__name__})",
                                   hint="check backup.s3.endpoint_url / AWS_ENDPOINT_URL and the network") from None
        except NoCredentialsError:
            raise InputError(f"no S3 credentials to {action} on {self.label}",
                             hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or backup.s3 credentials") from None
        except ClientError as exc:
            raise self.client_error(exc, action) from None
        except (BotoCoreError, S3UploadFailedError) as exc:
            raise BackupFailed(f"S3 {action} on {self.label} failed: {redact(str(exc))}",
                               hint="check the S3 endpoint and the network, then run again") from None

    def client_error(self, exc: Any, action: str) -> Exception:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "?"))
        if code in ("NoSuchBucket", "404") and action == "reach bucket":
            return InputError(f"bucket '{self.bucket}' does not exist at {self.endpoint}",
                              hint="create it, or fix the --to URL")
        if code in ("NoSuchKey", "404"):
            return BackupFailed(f"{action}: object is missing from {self.label}",
                                hint="this backup is incomplete: take a new one (dualpath backup create), or use "
                                     "another (dualpath backup list)")
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return InputError(f"S3 refused to {action} on {self.label} ({code})",
                              hint="check the credentials and the bucket policy")
        return BackupFailed(f"S3 {action} on {self.label} failed ({code}): {redact(str(error.get('Message', '')))}",
                            hint="see S3's message; fix the bucket or its settings, then run again")

    @property
    def endpoint(self) -> str:
        if self.settings.endpoint_url:
            return redact(self.settings.endpoint_url)
        return redact(os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or "AWS S3")
