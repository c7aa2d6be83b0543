"""Page images for the console, made from the store's copies, and the field boxes drawn over them.

A page is decoded exactly as the pipeline decoded it (`pipeline.ingest.load_document`: EXIF
orientation applied, PDF pages rendered at the configured dpi), so a field's box — in the
uploaded page's pixel coordinates (SPEC §2) — lands where the field is. The browser gets a
JPEG scaled down for the screen; the SVG overlay keeps the page's own coordinates in its
`viewBox`, so the scaling never moves a box.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from console.labels import N_
from pipeline.errors import DocumentError
from pipeline.ingest import load_document
from pipeline.models import DocumentResult
from pipeline.settings import IngestOptions

SCREEN_LONG_SIDE = 2000
JPEG_QUALITY = 85
FULL_JPEG_QUALITY = 92


@dataclass
class RenderedPage:
    width: int   # the page as the pipeline saw it (box coordinates)
    height: int
    jpeg: bytes  # scaled to at most SCREEN_LONG_SIDE


@dataclass
class RenderedDocument:
    pages: list[RenderedPage] = field(default_factory=list)
    error: str | None = None  # the copy could not be decoded (the verdict says why, too)


class PageRenderer:
    """Decodes stored files into screen JPEGs, keeping the last `capacity` documents in memory."""

    def __init__(self, ingest: IngestOptions, capacity: int = 32):
        self.ingest, self.capacity = ingest, capacity
        self._cache: OrderedDict[str, RenderedDocument] = OrderedDict()
        self._rendering: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def render(self, sha256: str, load: Callable[[], bytes | None]) -> RenderedDocument:
        """The pages of the file with this sha256; `load` fetches its bytes when not cached.

        One render per file at a time: the page images of a submission page arrive together, and
        each would otherwise decode the whole PDF again."""
        with self._lock:
            if sha256 in self._cache:
                self._cache.move_to_end(sha256)
                return self._cache[sha256]
            file_lock = self._rendering.setdefault(sha256, threading.Lock())
        with file_lock:
            with self._lock:
                if sha256 in self._cache:
                    return self._cache[sha256]
            data = load()
            doc = RenderedDocument(error=N_("the store has no copy of this file")) if data is None else \
                _render(data, self.ingest)
            with self._lock:
                self._cache[sha256] = doc
                while len(self._cache) > self.capacity:
                    self._cache.popitem(last=False)
                self._rendering.pop(sha256, None)
        return doc


    def full_page(self, load: Callable[[], bytes | None], page: int) -> bytes | None:
        """Page `page` (1-based) at the size the pipeline saw it, as a JPEG; None when the file or the
        page is not there. Not cached: asked for one page at a time, and large."""
        data = load()
        if data is None:
            return None
        pages = _decode(data, self.ingest)
        if isinstance(pages, str) or not 1 <= page <= len(pages):
            return None
        ok, jpeg = cv2.imencode(".jpg", pages[page - 1], [cv2.IMWRITE_JPEG_QUALITY, FULL_JPEG_QUALITY])
        return jpeg.tobytes() if ok else None


def _decode(data: bytes, ingest: IngestOptions):
    """The pages as the pipeline decodes them, or the reason they cannot be (a str)."""
    with tempfile.TemporaryDirectory(prefix="zizhi-console-") as tmp:
        path = Path(tmp) / "copy"
        path.write_bytes(data)
        try:
            return load_document(path, ingest).pages
        except DocumentError as e:
            return str(e).replace(str(path), "the file")


def _render(data: bytes, ingest: IngestOptions) -> RenderedDocument:
    pages = _decode(data, ingest)
    if isinstance(pages, str):
        return RenderedDocument(error=pages)
    out = RenderedDocument()
    for image in pages:
        h, w = image.shape[:2]
        scale = min(1.0, SCREEN_LONG_SIDE / max(w, h))
        screen = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                            interpolation=cv2.INTER_AREA) if scale < 1 else image
        ok, jpeg = cv2.imencode(".jpg", screen, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            return RenderedDocument(error=N_("page could not be encoded for the screen"))
        out.pages.append(RenderedPage(w, h, jpeg.tobytes()))
    return out


@dataclass
class FieldBox:
    name: str
    value: str
    confidence: float
    points: str  # SVG polygon points, in the page's viewBox coordinates
    label_x: float
    label_y: float


@dataclass
class PageView:
    number: int  # 1-based, as fields name pages
    width: float
    height: float
    boxes: list[FieldBox] = field(default_factory=list)


def _box_scale(doc: DocumentResult, pages: list[RenderedPage]) -> float:
    """Box units per rendered pixel: 1, unless the page is now rendered at another size than the
    verdict's (an operator changed the PDF dpi since), seen from the quality record's page size."""
    q = doc.quality
    if q is None or not pages or any((p.width, p.height) == (q.width, q.height) for p in pages):
        return 1.0
    first = pages[0]
    return q.width / first.width if first.width else 1.0


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


def page_views(doc: DocumentResult, rendered: RenderedDocument) -> list[PageView]:
    scale = _box_scale(doc, rendered.pages)
    views = [PageView(i + 1, _num(p.width * scale), _num(p.height * scale)) for i, p in enumerate(rendered.pages)]
    for name, fv in doc.fields.items():
        if not fv.box or not 1 <= fv.page <= len(views):
            continue
        xs = [pt[0] for pt in fv.box]
        ys = [pt[1] for pt in fv.box]
        views[fv.page - 1].boxes.append(FieldBox(
            name=name, value=fv.value, confidence=fv.confidence,
            points=" ".join(f"{x},{y}" for x, y in fv.box), label_x=min(xs), label_y=min(ys)))
    return views
