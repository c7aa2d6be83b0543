"""Read a submission file and load its documents as page images.

Everything that comes from a merchant is untrusted: the JSON, the paths in it and the files. Each
problem becomes a clear error — `SubmissionError` for the whole submission, `DocumentError` for
one document — never a traceback, and never a read outside the submission's folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from pydantic import ValidationError

from pipeline.display import unsafe_characters, visible
from pipeline.errors import DocumentError, SubmissionError, UnsafePathError
from pipeline.models import Submission
from pipeline.settings import IngestOptions

MAX_SUBMISSION_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32  # a submission is 4 levels deep; Python's json recurses once per level

IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "TIFF", "BMP", "MPO"}


@dataclass
class LoadedDocument:
    """A document's pages as BGR arrays, in the orientation a viewer shows (EXIF applied)."""

    path: Path  # the name it was read under (the bytes were decoded from memory)
    kind: str  # "image" or "pdf"
    pages: list[np.ndarray]
    page_count: int  # pages in the file, including those not read
    skipped_pages: list[int] = field(default_factory=list)  # 1-based numbers beyond the cap
    notes: list[str] = field(default_factory=list)


# --- the submission file ---------------------------------------------------------------------

# A string literal; its closing quote optional, so an unterminated one is consumed in one linear pass
# (a required quote made `"\\"\\"\\"…` quadratic: every quote restarted a scan to the end).
_JSON_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text` (brackets inside strings do not count).

    Linear and recursion-free, so it can run before `json.loads` (which recurses once per level and
    raises RecursionError on a few thousand)."""
    brackets = np.frombuffer(_NOT_BRACKET.sub("", _JSON_STRING.sub('""', text)).encode("ascii"), np.uint8)
    if not brackets.size:
        return 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return max(0, int(np.cumsum(steps).max()))


def _refuse_surrogates(value: object) -> None:
    """Every string (keys too) must be text UTF-8 can hold: `\\ud800` alone is not."""
    stack = [(value, "(top level)")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                stack.append((k, f"{where} key"))
                stack.append((v, k if where == "(top level)" else f"{where}.{k}"))
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
        elif isinstance(item, str) and _SURROGATE.search(item):
            raise SubmissionError(f"submission text is not valid Unicode: {visible(where)} holds a lone "
                                  f"surrogate ({', '.join(unsafe_characters(item))})")


def parse_submission_json(data: bytes, label: str = "submission file") -> object:
    """The JSON value of a submission file's bytes, within limits: at most MAX_SUBMISSION_BYTES,
    UTF-8 (a BOM is allowed), nested at most MAX_JSON_DEPTH levels, no lone surrogate in any string.

    Raises SubmissionError with one line naming what is wrong; never RecursionError or MemoryError.
    """
    if len(data) > MAX_SUBMISSION_BYTES:
        raise SubmissionError(f"{label} is larger than {MAX_SUBMISSION_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SubmissionError(f"{label} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise SubmissionError(f"{label} is not a usable submission: JSON nested {depth} levels deep "
                              f"(at most {MAX_JSON_DEPTH})")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise SubmissionError(f"{label} is not valid JSON (line {e.lineno}: {e.msg})") from None
    except RecursionError:  # json_depth counts every bracket: only a bug in it gets here
        raise SubmissionError(f"{label} is not a usable submission: JSON nested too deeply") from None
    _refuse_surrogates(raw)
    return raw


def submission_from_bytes(data: bytes, label: str = "submission file") -> Submission:
    """Parse and validate a submission from its bytes (SubmissionError: unusable, one line)."""
    raw = parse_submission_json(data, label)
    try:
        return Submission.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "(top level)"
        raise SubmissionError(f"submission does not match the contract: {visible(where)}: "
                              f"{visible(first['msg'])}") from None


def load_submission(path: str | Path) -> tuple[Submission, Path]:
    """Parse a submission file; return it with the folder its document paths are relative to.

    The file is read once (at most MAX_SUBMISSION_BYTES + 1 bytes) and parsed from those bytes."""
    p = Path(path)
    if not p.is_file():
        raise SubmissionError(f"submission file not found: {visible(p)}")
    try:
        with p.open("rb") as f:
            data = f.read(MAX_SUBMISSION_BYTES + 1)
    except OSError as e:
        raise SubmissionError(f"submission file cannot be read: {visible(p)} ({visible(e.strerror or e)})") from None
    return submission_from_bytes(data, f"submission file {visible(p)}"), p.resolve().parent


def resolve_document_path(base_dir: Path, relative: str) -> Path:
    """The document's real path, refusing anything that leads outside `base_dir`."""
    if "\x00" in relative:
        raise UnsafePathError(f"document path contains a NUL byte: {relative!r}")
    rel = Path(relative)
    if rel.is_absolute() or relative.startswith(("/", "\\")) or (len(relative) > 1 and relative[1] == ":"):
        raise UnsafePathError(f"document path must be relative to the submission folder: {relative}")
    if ".." in rel.parts or ".." in relative.replace("\\", "/").split("/"):
        raise UnsafePathError(f"document path may not contain '..': {relative}")
    base = base_dir.resolve()
    candidate = base / rel
    real = Path(os.path.realpath(candidate))
    if real != base and base not in real.parents:
        raise UnsafePathError(f"document path leads outside the submission folder (symlink?): {relative}")
    try:
        exists, regular = real.exists(), real.is_file()
    except OSError as e:  # a name too long for the file system, a permission denied on the way
        raise DocumentError(f"document path cannot be used ({visible(e.strerror or type(e).__name__)}): "
                            f"{relative}") from None
    if not exists:
        raise DocumentError(f"document not found: {relative}")
    if not regular:
        raise DocumentError(f"document is not a regular file: {relative}")
    return real


def sniff_kind(head: bytes) -> str | None:
    if head.startswith(b"%PDF"):
        return "pdf"
    signatures = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"BM")
    if head.startswith(signatures) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    return None


def read_file(path: Path, options: IngestOptions) -> bytes:
    """A document's bytes, read once through one open file: DocumentError when it is empty or over
    `max_file_bytes` (told by the open file's own size, so a larger file is never read whole)."""
    try:
        # O_NONBLOCK: a FIFO or device swapped in after the path was checked must not hang the read
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise DocumentError(f"document is not a regular file: {visible(path.name)}")
            size = st.st_size
            if size > options.max_file_bytes:
                raise DocumentError(f"file is {size / 1e6:.1f} MB, over the {options.max_file_bytes / 1e6:.0f} MB "
                                    f"limit: {visible(path.name)}")
            data = f.read(options.max_file_bytes + 1)
    except OSError as e:
        raise DocumentError(f"file cannot be read ({visible(e.strerror or type(e).__name__)}): "
                            f"{visible(path.name)}") from None
    if not data:
        raise DocumentError(f"file is empty: {visible(path.name)}")
    if len(data) > options.max_file_bytes:  # grew while being read
        raise DocumentError(f"file is over the {options.max_file_bytes / 1e6:.0f} MB limit: {visible(path.name)}")
    return data


@dataclass
class Fetched:
    """One named file of a submission as read once: its bytes and their digest, or why it could not be.

    `digest` is the sha256 of `data`, or `!<error class>:<sha256 of the reason>` for a file that is
    missing, unsafe, empty or over the size limit: a fingerprint and a later read agree on it exactly
    when they saw the same thing."""

    name: str
    data: bytes | None
    digest: str
    error: DocumentError | None = None


def fetch(base_dir: Path, name: str, options: IngestOptions) -> Fetched:
    """Resolve `name` safely under `base_dir` and read it once (never raises DocumentError)."""
    try:
        data = read_file(resolve_document_path(base_dir, name), options)
    except DocumentError as e:
        reason = hashlib.sha256(str(e).encode("utf-8", "backslashreplace")).hexdigest()[:16]
        return Fetched(name, None, f"!{type(e).__name__}:{reason}", e)
    return Fetched(name, data, hashlib.sha256(data).hexdigest())


def load_document(path: Path, options: IngestOptions) -> LoadedDocument:
    """Read a document file once and decode it (see `load_document_bytes`)."""
    return load_document_bytes(read_file(path, options), path, options)


def load_document_bytes(data: bytes, path: Path, options: IngestOptions) -> LoadedDocument:
    """Decode a document from its bytes (`path` only names it in messages): an image's frames or a
    PDF's pages, up to `pdf_max_pages`, as BGR arrays. Raises DocumentError for anything unreadable."""
    if not data:
        raise DocumentError(f"file is empty: {visible(path.name)}")
    if len(data) > options.max_file_bytes:
        raise DocumentError(f"file is {len(data) / 1e6:.1f} MB, over the {options.max_file_bytes / 1e6:.0f} MB "
                            f"limit: {visible(path.name)}")
    kind = sniff_kind(data[:16])
    if kind == "pdf":
        return _load_pdf(data, path, options)
    if kind == "image":
        return _load_image(data, path, options)
    raise DocumentError(f"not a JPG, PNG, WEBP, TIFF, BMP or PDF file: {visible(path.name)}")


def _load_image(data: bytes, path: Path, options: IngestOptions) -> LoadedDocument:
    name = visible(path.name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))  # reads the header only
            w, h = img.size
            if w * h > options.max_pixels:
                raise DocumentError(f"image is {w}×{h} = {w * h / 1e6:.0f} MP, over the "
                                    f"{options.max_pixels / 1e6:.0f} MP limit (refused before decoding): {name}")
            if max(w, h) > options.max_side:
                raise DocumentError(f"image is {w}×{h}: a side over {options.max_side} pixels: {name}")
            if max(w, h) > options.max_aspect * max(1, min(w, h)):
                raise DocumentError(f"image is {w}×{h}, a strip rather than a page (longer than "
                                    f"{options.max_aspect:.0f}:1): {name}")
            if img.format not in IMAGE_FORMATS:
                raise DocumentError(f"unsupported image format {img.format}: {name}")
            frames = getattr(img, "n_frames", 1) if img.format == "TIFF" else 1
            pages = []
            for index in range(min(frames, options.pdf_max_pages)):
                img.seek(index)
                if img.size[0] * img.size[1] > options.max_pixels:  # each TIFF page has its own header
                    raise DocumentError(f"image page {index + 1} is {img.size[0]}×{img.size[1]}, over the "
                                        f"{options.max_pixels / 1e6:.0f} MP limit (refused before decoding): {name}")
                frame = ImageOps.exif_transpose(img) if index == 0 else img.copy()
                pages.append(to_bgr(frame))
    except DocumentError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise DocumentError(f"image is too large ({e}; refused before decoding): {name}") from None
    except UnidentifiedImageError:  # its message names the BytesIO's memory address: differs every run
        raise DocumentError(f"image cannot be decoded (its header is not a valid image's): {name}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise DocumentError(f"image cannot be decoded ({type(e).__name__}: {visible(e)}): {name}") from None
    skipped = list(range(len(pages) + 1, frames + 1))
    notes = [f"TIFF has {frames} pages; only the first {len(pages)} were read"] if skipped else []
    return LoadedDocument(path, "image", pages, frames, skipped, notes)


# Integer full scales an image's samples may use: 8-bit data stored in a 16-bit container reads
# like 8-bit, a 12-bit scanner's output like 12-bit, and 16-bit like 16-bit.
_FULL_SCALES = (255, 1023, 4095, 16383, 65535, 2**24 - 1, 2**32 - 1)


def _full_scale(arr: np.ndarray) -> float:
    """The range an image's samples are normalised by: 1.0 for a float image in 0–1, else the
    smallest integer full scale (8, 10, 12, 14, 16… bits) that holds its largest sample."""
    top = float(arr.max()) if arr.size else 0.0
    if arr.dtype.kind == "f" and top <= 1.0:
        return 1.0
    return next((s for s in _FULL_SCALES if top <= s), top)


def _over_white(rgba: np.ndarray) -> np.ndarray:
    """Composite an RGBA array (uint8) over a white page: a transparent background is paper, not black."""
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    rgb = rgba[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def to_bgr(img: Image.Image) -> np.ndarray:
    """Any Pillow image as an 8-bit BGR array of the pixels a viewer shows.

    - 16-bit, 32-bit integer and float greyscale (`I;16*`, `I`, `F`) are scaled by their real range
      (see `_full_scale`), not clipped at 255 (a 16-bit page would come out white);
    - anything with transparency (`RGBA`, `LA`, `PA`, `P` with a transparent index, `RGBa`) is laid
      over white;
    - `CMYK`, `YCbCr`, `LAB`, `HSV`, palette and bilevel are converted to RGB by Pillow.
    """
    mode = img.mode
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(img)
        if arr.dtype.kind in "iu" and arr.size and arr.min() < 0:
            arr = arr - arr.min()
        grey = np.clip(arr.astype(np.float64) * (255.0 / max(_full_scale(arr), 1e-12)) + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    has_alpha = "A" in mode or "a" in mode or (mode == "P" and "transparency" in img.info) \
        or (mode in ("L", "RGB") and "transparency" in img.info)
    if has_alpha:
        rgb = _over_white(np.asarray(img.convert("RGBA")))
    else:
        rgb = np.asarray(img if mode == "RGB" else img.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _load_pdf(data: bytes, path: Path, options: IngestOptions) -> LoadedDocument:
    # poppler reads files: it gets our own private copy of the bytes already read, never the upload's path
    with tempfile.TemporaryDirectory(prefix="zizhi-pdf-") as tmp:
        own = Path(tmp) / "document.pdf"
        own.write_bytes(data)
        return _load_pdf_file(own, path, options)


def _load_pdf_file(own: Path, path: Path, options: IngestOptions) -> LoadedDocument:
    from pdf2image import convert_from_path, pdfinfo_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError

    name = visible(path.name)

    try:
        info = pdfinfo_from_path(str(own), timeout=options.pdf_timeout_s)
        page_count = int(info.get("Pages", 0))
    except PDFInfoNotInstalledError:
        raise DocumentError("poppler-utils (pdfinfo, pdftoppm) is not installed: run `make install`") from None
    except (PDFPageCountError, PDFSyntaxError, ValueError, KeyError) as e:
        why = visible(str(e).strip().splitlines()[-1][:160]) if str(e).strip() else type(e).__name__
        raise DocumentError(f"PDF cannot be read ({why}): {name}") from None
    except Exception as e:  # noqa: BLE001 - pdf2image raises bare exceptions (timeouts, poppler errors)
        raise DocumentError(f"PDF cannot be read ({type(e).__name__}): {name}") from None
    if page_count < 1:
        raise DocumentError(f"PDF has no pages: {name}")
    last = min(page_count, options.pdf_max_pages)
    try:  # every page's own size: a small page 1 says nothing about a poster-size page 2
        sizes = pdfinfo_from_path(str(own), timeout=options.pdf_timeout_s, first_page=1, last_page=last)
    except Exception:  # noqa: BLE001 - as below; the first page's size is then all we know
        sizes = {}
    first_size = _page_size_points(info)
    dpis = [_page_dpi(size if all(size) else first_size, options)
            for size in (_page_size_points(sizes, n) for n in range(1, last + 1))]
    pages = []
    start = 1
    try:
        while start <= last:
            # consecutive pages at the same dpi are rendered in one pdftoppm call (usually all of them)
            end = start
            while end < last and dpis[end] == dpis[start - 1]:
                end += 1
            images = convert_from_path(str(own), dpi=dpis[start - 1], first_page=start, last_page=end, fmt="ppm",
                                       timeout=options.pdf_timeout_s)
            pages += [to_bgr(im) for im in images]
            start = end + 1
    except Exception as e:  # noqa: BLE001 - as above: poppler's failures arrive as bare exceptions
        raise DocumentError(f"PDF pages cannot be rendered ({type(e).__name__}): {name}") from None
    notes = []
    skipped = list(range(last + 1, page_count + 1))
    if skipped:
        notes.append(f"PDF has {page_count} pages; only the first {last} were read")
    reduced = [n for n, dpi in enumerate(dpis, 1) if dpi != options.pdf_dpi]
    if reduced:
        notes.append(f"PDF page(s) {', '.join(map(str, reduced))} are very large; rendered at "
                     f"{min(dpis)} dpi")
    return LoadedDocument(path, "pdf", pages, page_count, skipped, notes)


def _page_dpi(size_points: tuple[float, float], options: IngestOptions) -> int:
    """The configured dpi, lowered for a page that would exceed the pixel limit (a poster, not refused)."""
    width_pt, height_pt = size_points
    dpi = options.pdf_dpi
    if width_pt and height_pt:
        pixels = width_pt * height_pt * (dpi / 72.0) ** 2
        if pixels > options.max_pixels:
            # No floor: a page too large for the limit even at a low dpi comes out small (and is then
            # judged unreadable if it matters) rather than exhausting memory.
            dpi = max(1, int(dpi * (options.max_pixels / pixels) ** 0.5))
    return dpi


def _page_size_points(info: dict, page: int | None = None) -> tuple[float, float]:
    """(width, height) in points from pdfinfo: its "Page size", or "Page    N size" with a page range."""
    key = "Page size" if page is None else next((k for k in info if k.split() == ["Page", str(page), "size"]), "")
    try:
        parts = str(info.get(key, "")).split()
        return float(parts[0]), float(parts[2])
    except (IndexError, ValueError):
        return 0.0, 0.0
