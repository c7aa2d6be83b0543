"""Object storage for uploads: content-addressed by sha256, in a local folder or any S3-compatible store.

`ZIZHI_OBJECTS` names it: a folder path (default: `objects/` beside the verdict store's SQLite
file, or under zizhi's data folder for PostgreSQL), or `s3://bucket/prefix` with
`ZIZHI_S3_ENDPOINT` (e.g. http://127.0.0.1:8333 for SeaweedFS; unset: AWS) and the usual
`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (boto3 reads them). An object's key is
`<prefix>/sha256/<hex digest>`: the same licence uploaded with fifty listings is one object, stored
once and read once.

Objects are written whole or not at all: a local file goes to a temporary name and is renamed into
place; an S3 object becomes visible only when its (multipart) upload completes. Nothing here reads
a whole file into memory: uploads go from a file on disk, downloads to one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from pipeline.display import visible

HEX = frozenset("0123456789abcdef")


class ObjectStoreError(Exception):
    """The object storage cannot be used (bad URL, unreachable, refused): one line for an operator."""


def _check_digest(sha256: str) -> str:
    if len(sha256) != 64 or not set(sha256) <= HEX:
        raise ValueError(f"not a sha256 hex digest: {visible(sha256[:80])!r}")
    return sha256


def file_digest(path: Path, chunk: int = 1 << 20) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


class ObjectStore(Protocol):
    url: str

    def put_file(self, path: Path, sha256: str) -> bool:
        """Store the file under its digest (checked by the caller); False when it was there already."""

    def exists(self, sha256: str) -> bool: ...

    def fetch_to(self, sha256: str, dest: Path) -> None:
        """Write the object to `dest` (KeyError: no such object)."""

    def digests(self) -> list[str]:
        """Every object's digest (tests and operators count them)."""

    def check(self) -> None:
        """Raise ObjectStoreError unless the storage answers."""


class LocalObjects:
    """A folder: `<root>/sha256/<first two hex>/<digest>`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.url = str(self.root)

    def _path(self, sha256: str) -> Path:
        _check_digest(sha256)
        return self.root / "sha256" / sha256[:2] / sha256

    def put_file(self, path: Path, sha256: str) -> bool:
        target = self._path(sha256)
        if target.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, Path(path).open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)  # whole or not at all; two writers of one digest write the same bytes
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def fetch_to(self, sha256: str, dest: Path) -> None:
        source = self._path(sha256)
        if not source.is_file():
            raise KeyError(sha256)
        shutil.copyfile(source, dest)

    def digests(self) -> list[str]:
        base = self.root / "sha256"
        return sorted(p.name for p in base.glob("*/*") if p.is_file() and not p.name.startswith(".")) \
            if base.is_dir() else []

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".health-"):
                pass  # the folder takes a new file (and it is gone again)
        except OSError as e:
            raise ObjectStoreError(f"object folder {visible(self.root)} is not usable: {visible(e)}") from None

    def __repr__(self) -> str:
        return f"LocalObjects({self.root})"


class S3Objects:
    """An S3 bucket (any S3-compatible server): `<prefix>/sha256/<digest>`, through boto3."""

    def __init__(self, url: str, *, endpoint: str | None = None, region: str | None = None,
                 connect_timeout: float = 5, read_timeout: float = 60):
        import boto3
        from botocore.config import Config

        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ObjectStoreError(f"bad object storage URL {visible(url)!r}: expected s3://bucket/prefix or a folder")
        self.url = url
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.endpoint = endpoint
        config = Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                        retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"})
        self.client = boto3.client("s3", endpoint_url=endpoint or None, config=config,
                                   region_name=region or os.environ.get("AWS_REGION")
                                   or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")

    def _key(self, sha256: str) -> str:
        _check_digest(sha256)
        return f"{self.prefix}/sha256/{sha256}" if self.prefix else f"sha256/{sha256}"

    def put_file(self, path: Path, sha256: str) -> bool:
        if self.exists(sha256):
            return False
        # upload_file streams from disk (multipart above 8 MB); the object appears when it completes.
        self.client.upload_file(str(path), self.bucket, self._key(sha256),
                                ExtraArgs={"ContentType": "application/octet-stream",
                                           "Metadata": {"sha256": sha256}})
        return True

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def fetch_to(self, sha256: str, dest: Path) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.download_file(self.bucket, self._key(sha256), str(dest))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise KeyError(sha256) from None
            raise

    def digests(self) -> list[str]:
        prefix = self._key("0" * 64)[:-64]
        out: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out += [item["Key"][len(prefix):] for item in page.get("Contents", [])]
        return sorted(out)

    def check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as e:
            raise ObjectStoreError(f"object storage {visible(self.url)} at {visible(self.endpoint or 'AWS')} does "
                                   f"not answer: {visible(e)}") from None

    def __repr__(self) -> str:
        return f"S3Objects({self.url} at {self.endpoint or 'AWS'})"


def default_objects_url(store_url: str) -> str:
    """`objects/` beside an SQLite store's file; zizhi's data folder for any other store."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(store_url)
    except ArgumentError:
        parsed = None  # a bad store URL is reported where the store is opened
    if parsed is not None and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return str(Path(parsed.database).expanduser().parent / "objects")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "zizhi" / "objects")


def open_objects(url: str, *, endpoint: str | None = None) -> ObjectStore:
    """The object storage at `url`: `s3://bucket/prefix`, or a folder path."""
    if url.startswith("s3://"):
        return S3Objects(url, endpoint=endpoint)
    if "://" in url:
        raise ObjectStoreError(f"bad object storage URL {visible(url)!r}: expected s3://bucket/prefix or a folder")
    return LocalObjects(Path(url).expanduser())
