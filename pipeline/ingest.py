"""Read a submission file and load its documents as page images.

Everything that comes from a merchant is untrusted: the JSON, the paths in it and the files. Each
problem becomes a clear error — `SubmissionError` for the whole submission, `DocumentError` for
one document — never a traceback, and never a read outside the submission's folder.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from pydantic import ValidationError

from pipeline.errors import DocumentError, SubmissionError, UnsafePathError
from pipeline.models import Submission
from pipeline.settings import IngestOptions

MAX_SUBMISSION_BYTES = 1024 * 1024

IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "TIFF", "BMP", "MPO"}


@dataclass
class LoadedDocument:
    """A document's pages as BGR arrays, in the orientation a viewer shows (EXIF applied)."""

    path: Path
    kind: str  # "image" or "pdf"
    pages: list[np.ndarray]
    page_count: int  # pages in the file, including those not read
    skipped_pages: list[int] = field(default_factory=list)  # 1-based numbers beyond the cap
    notes: list[str] = field(default_factory=list)


def load_submission(path: str | Path) -> tuple[Submission, Path]:
    """Parse a submission file; return it with the folder its document paths are relative to."""
    p = Path(path)
    if not p.is_file():
        raise SubmissionError(f"submission file not found: {p}")
    if p.stat().st_size > MAX_SUBMISSION_BYTES:
        raise SubmissionError(f"submission file is larger than {MAX_SUBMISSION_BYTES} bytes: {p}")
    try:
        raw = json.loads(p.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as e:
        raise SubmissionError(f"submission file is not UTF-8 text: {p} ({e.reason})") from None
    except json.JSONDecodeError as e:
        raise SubmissionError(f"submission file is not valid JSON: {p} (line {e.lineno}: {e.msg})") from None
    try:
        submission = Submission.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "(top level)"
        raise SubmissionError(f"submission does not match the contract: {where}: {first['msg']}") from None
    return submission, p.resolve().parent


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
    if not real.exists():
        raise DocumentError(f"document not found: {relative}")
    if not real.is_file():
        raise DocumentError(f"document is not a regular file: {relative}")
    return real


def sniff_kind(head: bytes) -> str | None:
    if head.startswith(b"%PDF"):
        return "pdf"
    signatures = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"BM")
    if head.startswith(signatures) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    return None


def load_document(path: Path, options: IngestOptions) -> LoadedDocument:
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(f"file is empty: {path.name}")
    if size > options.max_file_bytes:
        raise DocumentError(f"file is {size / 1e6:.1f} MB, over the {options.max_file_bytes / 1e6:.0f} MB limit: "
                            f"{path.name}")
    with path.open("rb") as f:
        head = f.read(16)
    kind = sniff_kind(head)
    if kind == "pdf":
        return _load_pdf(path, options)
    if kind == "image":
        return _load_image(path, options)
    raise DocumentError(f"not a JPG, PNG, WEBP, TIFF, BMP or PDF file: {path.name}")


def _load_image(path: Path, options: IngestOptions) -> LoadedDocument:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)  # reads the header only
            w, h = img.size
            if w * h > options.max_pixels:
                raise DocumentError(f"image is {w}×{h} = {w * h / 1e6:.0f} MP, over the "
                                    f"{options.max_pixels / 1e6:.0f} MP limit (refused before decoding): {path.name}")
            if img.format not in IMAGE_FORMATS:
                raise DocumentError(f"unsupported image format {img.format}: {path.name}")
            frames = getattr(img, "n_frames", 1) if img.format == "TIFF" else 1
            pages = []
            for index in range(min(frames, options.pdf_max_pages)):
                img.seek(index)
                frame = ImageOps.exif_transpose(img) if index == 0 else img.copy()
                pages.append(_to_bgr(frame))
    except DocumentError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise DocumentError(f"image is too large ({e}; refused before decoding): {path.name}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DocumentError(f"image cannot be decoded ({type(e).__name__}: {e}): {path.name}") from None
    skipped = list(range(len(pages) + 1, frames + 1))
    return LoadedDocument(path, "image", pages, frames, skipped)


def _to_bgr(img: Image.Image) -> np.ndarray:
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGBA").convert("RGB") if "A" in img.mode or img.mode == "P" else img.convert("RGB")
    arr = np.asarray(img.convert("RGB"))
    return np.ascontiguousarray(arr[:, :, ::-1])


def _load_pdf(path: Path, options: IngestOptions) -> LoadedDocument:
    from pdf2image import convert_from_path, pdfinfo_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError

    try:
        info = pdfinfo_from_path(str(path), timeout=options.pdf_timeout_s)
        page_count = int(info.get("Pages", 0))
    except PDFInfoNotInstalledError:
        raise DocumentError("poppler-utils (pdfinfo, pdftoppm) is not installed: run `make install`") from None
    except (PDFPageCountError, PDFSyntaxError, ValueError, KeyError) as e:
        raise DocumentError(f"PDF cannot be read ({str(e).strip().splitlines()[-1][:160] if str(e) else type(e).__name__}): "
                            f"{path.name}") from None
    except Exception as e:  # noqa: BLE001 - pdf2image raises bare exceptions (timeouts, poppler errors)
        raise DocumentError(f"PDF cannot be read ({type(e).__name__}): {path.name}") from None
    if page_count < 1:
        raise DocumentError(f"PDF has no pages: {path.name}")
    last = min(page_count, options.pdf_max_pages)
    try:  # every page's own size: a small page 1 says nothing about a poster-size page 2
        sizes = pdfinfo_from_path(str(path), timeout=options.pdf_timeout_s, first_page=1, last_page=last)
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
            images = convert_from_path(str(path), dpi=dpis[start - 1], first_page=start, last_page=end, fmt="ppm",
                                       timeout=options.pdf_timeout_s)
            pages += [_to_bgr(im) for im in images]
            start = end + 1
    except Exception as e:  # noqa: BLE001 - as above: poppler's failures arrive as bare exceptions
        raise DocumentError(f"PDF pages cannot be rendered ({type(e).__name__}): {path.name}") from None
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
