"""An upload, from the request stream to a checked submission folder on disk — never whole in memory.

The multipart body is parsed as it arrives (python-multipart's streaming parser): each file part is
written to its own file in a private staging folder while its sha256 is computed and its size and
first bytes are checked, so a part over the file limit or a body over the request limit is refused
(413) as soon as it crosses it, and a file that is not a JPG/PNG/WEBP/TIFF/BMP/PDF or an MP4/MOV/WEBM
(415) after its first bytes (a product video must be a video, any other file an image or a PDF). Only the `submission` part (the §1 JSON, at most 1 MB) is held in memory.

Then the submission is checked exactly as `zizhi verify` checks it (parsed within limits, known
category, every named file sent, no path that leads out, at most `max_documents`): 422 with the
reason. The folder that results is what object storage receives and what the backlog's content
hash is computed on. The caller removes the staging folder whatever happens.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.errors import ApiError
from operations.backlog import SUBMISSION_FILE
from pipeline.display import visible
from pipeline.errors import DocumentError, SubmissionError, UnsafePathError
from pipeline.ingest import MAX_SUBMISSION_BYTES, resolve_document_path, sniff_kind, submission_from_bytes
from pipeline.media.videos import sniff_video
from pipeline.models import Submission
from pipeline.runner import check_submission
from rules import Rules

SUBMISSION_PART = "submission"
SNIFF_BYTES = 16
MAX_PART_HEADERS = 8
MAX_PART_HEADER_BYTES = 4096
NOT_A_DOCUMENT = "is not a JPG, PNG, WEBP, TIFF or BMP image or a PDF"
NOT_A_VIDEO = "is not an MP4, MOV or WEBM video"
NOT_ACCEPTED = "is not a JPG, PNG, WEBP, TIFF or BMP image, a PDF, or an MP4, MOV or WEBM video"


def _acceptable(head: bytes) -> bool:
    """A document's or picture's first bytes (image, PDF) or a product video's (MP4, MOV, WEBM)."""
    return sniff_kind(head) is not None or sniff_video(head)


@dataclass
class FilePart:
    name: str  # the form-field name: the file's path as the submission JSON writes it
    path: Path
    size: int = 0
    head: bytes = b""
    sha256: str = ""


@dataclass
class Upload:
    """What arrived: the submission JSON's bytes and one file per other part."""

    submission_json: bytes | None = None
    files: dict[str, FilePart] = field(default_factory=dict)


@dataclass
class Limits:
    max_file_bytes: int
    max_request_bytes: int
    max_parts: int
    body_idle_seconds: float = 30.0  # a body that stops arriving this long is given up (408)


class _Receiver:
    """python-multipart callbacks writing each part where it belongs, with the limits applied."""

    def __init__(self, staging: Path, limits: Limits):
        self.staging = staging
        self.limits = limits
        self.upload = Upload()
        self.parts = 0
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._json: bytearray | None = None
        self._file: FilePart | None = None
        self._out: BinaryIO | None = None
        self._hash = None

    def callbacks(self) -> dict:
        return {"on_part_begin": self.part_begin, "on_header_field": self.header_field,
                "on_header_value": self.header_value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_finished, "on_part_data": self.part_data,
                "on_part_end": self.part_end}

    def part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise ApiError(413, f"more than {self.limits.max_parts} parts: a submission has at most that many "
                                f"files plus its JSON")
        self._headers = {}
        self._header_field.clear()
        self._header_value.clear()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def header_end(self) -> None:
        self._headers[bytes(self._header_field).strip().lower()] = bytes(self._header_value).strip()
        self._header_field.clear()
        self._header_value.clear()

    def headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        raw_name = options.get(b"name")
        if disposition != b"form-data" or raw_name is None:
            raise ApiError(422, "every part needs Content-Disposition: form-data with a name", "malformed_request")
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(422, "a part's name is not UTF-8", "malformed_request") from None
        if name == SUBMISSION_PART:
            if self.upload.submission_json is not None:
                raise ApiError(422, "more than one 'submission' part")
            self._json = bytearray()
        else:
            if name in self.upload.files:
                raise ApiError(422, f"file {visible(name)!r} sent twice")
            if not name or "\x00" in name or len(name) > 1000:
                raise ApiError(422, f"part name {visible(name[:100])!r} is not a file name")
            part = FilePart(name, self.staging / "parts" / f"{len(self.upload.files):04d}")
            part.path.parent.mkdir(exist_ok=True)
            self.upload.files[name] = part
            self._file, self._out, self._hash = part, part.path.open("wb"), hashlib.sha256()
        self._name = name

    def part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._json is not None:
            if len(self._json) + len(chunk) > MAX_SUBMISSION_BYTES:
                raise ApiError(413, f"the submission JSON is over {MAX_SUBMISSION_BYTES} bytes")
            self._json += chunk
            return
        part = self._file
        if part is None or self._out is None:
            raise ApiError(422, "part data before its headers", "malformed_request")
        part.size += len(chunk)
        if part.size > self.limits.max_file_bytes:
            raise ApiError(413, f"file {visible(part.name)!r} is over {self.limits.max_file_bytes} bytes")
        if len(part.head) < SNIFF_BYTES:
            part.head += chunk[:SNIFF_BYTES - len(part.head)]
            if len(part.head) >= SNIFF_BYTES and not _acceptable(part.head):
                raise ApiError(415, f"file {visible(part.name)!r} {NOT_ACCEPTED}")
        self._hash.update(chunk)
        self._out.write(chunk)

    def part_end(self) -> None:
        if self._json is not None:
            self.upload.submission_json = bytes(self._json)
            self._json = None
        elif self._file is not None:
            self.close()
        self._name = None

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._file.sha256 = self._hash.hexdigest()
        self._out, self._file = None, None


async def receive(content_type: str, content_length: str | None, stream: AsyncIterator[bytes], staging: Path,
                  limits: Limits) -> Upload:
    """Parse a multipart/form-data body from `stream` into `staging`; ApiError for any refusal."""
    kind, options = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise ApiError(415, "send the submission as multipart/form-data (a 'submission' part and one part per file)")
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 70:
        raise ApiError(422, "multipart/form-data without a usable boundary", "malformed_request")
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise ApiError(422, "Content-Length is not a number", "malformed_request") from None
        if declared > limits.max_request_bytes:
            raise ApiError(413, f"upload of {declared} bytes is over the limit of {limits.max_request_bytes}")
    receiver = _Receiver(staging, limits)
    parser = MultipartParser(boundary, receiver.callbacks(), max_header_count=MAX_PART_HEADERS,
                             max_header_size=MAX_PART_HEADER_BYTES)
    total = 0
    try:
        chunks = stream.__aiter__()
        while True:
            try:
                chunk = await asyncio.wait_for(chunks.__anext__(), limits.body_idle_seconds)
            except StopAsyncIteration:
                break
            except TimeoutError:
                # a client that sent its headers and stopped would hold a connection and a staging
                # folder forever
                raise ApiError(408, f"the upload stalled: nothing arrived for {limits.body_idle_seconds:g} s; "
                                    f"send it again") from None
            total += len(chunk)
            if total > limits.max_request_bytes:
                raise ApiError(413, f"upload is over the limit of {limits.max_request_bytes} bytes")
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as e:
        raise ApiError(422, f"malformed multipart body: {e}", "malformed_request") from None
    finally:
        receiver.close()
    if receiver._json is not None or receiver._name is not None:
        raise ApiError(422, "the multipart body ends inside a part", "malformed_request")
    for part in receiver.upload.files.values():
        if part.size == 0:
            raise ApiError(422, f"file {visible(part.name)!r} is empty")
        if not _acceptable(part.head):
            raise ApiError(415, f"file {visible(part.name)!r} {NOT_ACCEPTED}")
    return receiver.upload


def _named_files(submission: Submission) -> list[str]:
    product = submission.product
    return list(dict.fromkeys([ref.file for ref in submission.documents] + list(product.images)
                              + list(product.videos)))


def assemble(upload: Upload, staging: Path, rules: Rules, *, expected_id: str | None = None
             ) -> tuple[Submission, Path]:
    """Check the submission as `zizhi verify` would and lay its files out under `staging/tree` by their
    names; returns the submission and that folder. ApiError 422 with the reason otherwise."""
    if upload.submission_json is None:
        raise ApiError(422, "the 'submission' part (the submission JSON) is missing")
    try:
        submission = submission_from_bytes(upload.submission_json, "submission part")
    except SubmissionError as e:
        raise ApiError(422, str(e)) from None
    if "/" in submission.id or submission.id.strip() in (".", ".."):  # /v1/submissions/{id} could not name it
        raise ApiError(422, f"the submission's id {submission.id!r} cannot be polled at /v1/submissions/{{id}}: "
                            f"an id has no '/' and is not '.' or '..'")
    if expected_id is not None and submission.id != expected_id:
        raise ApiError(422, f"the submission's id {submission.id!r} is not the id in the path {expected_id!r}")
    tree = staging / "tree"
    tree.mkdir()
    named = _named_files(submission)
    videos = set(submission.product.videos) - {ref.file for ref in submission.documents} - set(submission.product.images)
    placed: dict[Path, FilePart] = {}
    for name in named:
        try:
            resolve_document_path(tree, name)
        except UnsafePathError as e:
            raise ApiError(422, str(e)) from None
        except DocumentError:
            pass  # not laid out yet: expected
        part = upload.files.get(name)
        if part is None:
            raise ApiError(422, f"file {visible(name)!r} is named in the submission but was not sent (a part named "
                                f"exactly {visible(name)!r})")
        if name in videos and not sniff_video(part.head):
            raise ApiError(415, f"file {visible(name)!r} is named as a product video but {NOT_A_VIDEO}")
        if name not in videos and sniff_kind(part.head) is None:
            raise ApiError(415, f"file {visible(name)!r} {NOT_A_DOCUMENT}")
        target = tree / name
        if name == SUBMISSION_FILE or target.resolve() == (tree / SUBMISSION_FILE).resolve():
            raise ApiError(422, f"a document may not be named {SUBMISSION_FILE}")
        same = placed.get(target.resolve())
        if same is not None:
            if same.sha256 != part.sha256:  # one file under two spellings is read once: which one?
                raise ApiError(422, f"{visible(same.name)!r} and {visible(name)!r} name the same file but were sent "
                                    f"with different content")
            continue
        placed[target.resolve()] = part
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part.path, target)
        except OSError as e:
            raise ApiError(422, f"file name {visible(name)!r} is not usable: {visible(e.strerror or e)}") from None
    extra = [n for n in upload.files if n not in named]
    if extra:
        raise ApiError(422, f"part {visible(extra[0])!r} is not a file the submission names (the part's name must be "
                            f"the file's path exactly as the submission JSON writes it)")
    (tree / SUBMISSION_FILE).write_bytes(upload.submission_json)
    try:
        submission = check_submission(submission, tree, rules)
    except SubmissionError as e:
        raise ApiError(422, str(e)) from None
    return submission, tree
