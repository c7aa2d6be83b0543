"""A listing's media as a whole (SPEC §6): read its pictures and videos once, then screen them and its
title and description. `read_listing` does the reading (OCR); `screen_listing` is what the checks call.

Checks and their statuses (docs/decision-policy.md):
- `product_image_clean` / `product_video_clean` (one per finding on a video, named with its second):
  `fail` for a decoded QR code or a barcode that is not a retail GTIN, and for contact details or a
  banned word read at `reject_confidence` or better as written; `review` for anything read less
  surely, or only once inserted characters and look-alikes were taken out;
- `product_title_clean` / `product_description_clean`: the merchant's own text, so no OCR doubt:
  `fail` as written, `review` when only the compact form (evasion) shows it;
- a picture or video that cannot be read is UNREADABLE: `fail` when it is plainly broken (cannot
  be decoded, cut short), `review` when it is over a limit or too slow — never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.evaluation import Evaluation
from pipeline.media.images import PictureReading, ProductImageReading, read_product_image
from pipeline.media.text import find_prohibited
from pipeline.media.videos import ProductVideoReading, read_product_video
from pipeline.models import Check, MediaFinding, MediaResult, Product, Submission
from pipeline.ocr.base import OcrEngine
from pipeline.settings import Settings
from rules import Rules


@dataclass
class ListingReading:
    images: list[ProductImageReading] = field(default_factory=list)
    videos: list[ProductVideoReading] = field(default_factory=list)


def read_listing(submission: Submission, base_dir: Path, engine: OcrEngine, settings: Settings, rules: Rules,
                 image_digests: list[str] | None = None, video_digests: list[str] | None = None) -> ListingReading:
    """Read every product picture and video of the submission once. `*_digests`: one per file, the
    digests the submission was fingerprinted with; a file whose bytes differ raises ContentChanged."""
    product = submission.product
    images = [read_product_image(base_dir, file, engine, settings, digest)
              for file, digest in zip(product.images, image_digests or [None] * len(product.images), strict=True)]
    videos = [read_product_video(base_dir, file, engine, settings, rules.thresholds.video, digest)
              for file, digest in zip(product.videos, video_digests or [None] * len(product.videos), strict=True)]
    return ListingReading(images, videos)


@dataclass
class _Seen:
    message: str  # "phone 13857123456"
    key: str  # the same thing seen twice (in two frames) has the same key
    clear: bool
    box: list[list[int]] | None
    page: int = 1


def _union_box(boxes: list[list[list[int]]]) -> list[list[int]] | None:
    points = [p for b in boxes if b for p in b]
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [[min(xs), min(ys)], [max(xs), min(ys)], [max(xs), max(ys)], [min(xs), max(ys)]]


def _seen_on(picture: PictureReading, rules: Rules, protected: tuple[str, ...]) -> list[_Seen]:
    """What one picture or frame shows that SPEC §6 forbids, each with its box."""
    seen = []
    for code in picture.codes:
        shown = code.payload or "(undecodable)"
        # a code the detector found but could not decode may be a pattern that looks like one: review
        seen.append(_Seen(f"{code.kind} ({shown})", f"{code.kind}:{code.payload}", bool(code.payload), code.box,
                          code.page))
    text, owners = "", []
    for index, line in enumerate(picture.lines):
        text += line.text + "\n"
        owners += [index] * (len(line.text) + 1)
    reject = rules.thresholds.reject_confidence
    for f in find_prohibited(text, rules.content, protected=protected):
        lines = [picture.lines[i] for i in sorted(set(owners[f.start:f.end]))]
        confidence = min((ln.confidence for ln in lines), default=0.0)
        seen.append(_Seen(f.describe(), f"{f.kind}:{f.found}", confidence >= reject and not f.evasive,
                          _union_box([ln.box for ln in lines if ln.box]), lines[0].page if lines else 1))
    return seen


def _protected(product: Product) -> tuple[str, ...]:
    return (product.brand,) if product.brand else ()


def screen_listing(ev: Evaluation, product: Product, listing: ListingReading | None, rules: Rules) -> list[MediaResult]:
    """SPEC §6 over a listing: its pictures, its videos (each finding named with its second), its
    title and description. Adds the checks to `ev` and returns what each file showed, and where."""
    listing = listing or ListingReading()
    protected = _protected(product)
    results = [_screen_image(ev, image, rules, protected) for image in listing.images]
    results += [_screen_video(ev, video, rules, protected) for video in listing.videos]
    for name, text in (("title", product.title), ("description", product.description)):
        _screen_text(ev, name, text, rules, protected)
    return results


def _unreadable(ev: Evaluation, check: str, doc: str, kind: str, error: str, clear: bool) -> None:
    ev.add(Check(name=check, status="fail" if clear else "review", document=doc, found=error,
                 message=f"product {kind} could not be screened: {error}"), "UNREADABLE")


def _screen_image(ev: Evaluation, image: ProductImageReading, rules: Rules, protected) -> MediaResult:
    doc = image.file
    picture = image.seen()
    result = MediaResult(file=doc, kind="image", width=picture.width or None, height=picture.height or None,
                         error=image.error)
    if image.error:
        clear = any(s in image.error for s in ("cannot be decoded", "is empty", "not a JPG"))
        _unreadable(ev, "product_image_clean", doc, "image", image.error, clear)
        return result
    seen = _seen_on(picture, rules, protected)
    if not seen:
        ev.add(Check(name="product_image_clean", status="pass", document=doc))
        return result
    result.findings = [MediaFinding(message=s.message, page=s.page, box=s.box) for s in seen]
    what = "; ".join(s.message for s in seen)
    ev.add(Check(name="product_image_clean", status="fail" if any(s.clear for s in seen) else "review",
                 document=doc, found=what, message="product image carries " + what), "PROHIBITED_CONTENT")
    return result


def _seconds(t: float) -> str:
    return f"{t:.1f} s"


def _screen_video(ev: Evaluation, video: ProductVideoReading, rules: Rules, protected) -> MediaResult:
    doc = video.file
    result = MediaResult(file=doc, kind="video", width=video.width or None, height=video.height or None,
                         duration_s=video.duration_s, frames_screened=len(video.frames), error=video.error)
    if video.error:
        result.frames_screened = None
        _unreadable(ev, "product_video_clean", doc, "video", video.error, video.error_clear)
        return result
    found: dict[str, list[tuple[float, _Seen]]] = {}
    for frame in video.frames:
        for s in _seen_on(frame.picture, rules, protected):
            found.setdefault(s.key, []).append((frame.time_s, s))
            result.findings.append(MediaFinding(message=f"{s.message} at {_seconds(frame.time_s)}",
                                                time_s=frame.time_s, box=s.box))
    if not found:
        ev.add(Check(name="product_video_clean", status="pass", document=doc,
                     found=f"{len(video.frames)} frames screened", score=video.duration_s))
        return result
    for sightings in found.values():
        first_t, first = sightings[0]
        clear = any(s.clear for _, s in sightings)
        also = [_seconds(t) for t, _ in sightings[1:]]
        message = f"product video shows {first.message} at {_seconds(first_t)}"
        if also:
            message += f" (also at {', '.join(also[:5])}{' …' if len(also) > 5 else ''})"
        ev.add(Check(name="product_video_clean", status="fail" if clear else "review", document=doc,
                     found=f"{first.message} at {_seconds(first_t)}", score=first_t, message=message),
               "PROHIBITED_CONTENT")
    return result


def _screen_text(ev: Evaluation, name: str, text: str, rules: Rules, protected) -> None:
    if not text or not text.strip():
        return
    check, doc = f"product_{name}_clean", f"product.{name}"
    findings = find_prohibited(text, rules.content, protected=protected)
    if not findings:
        ev.add(Check(name=check, status="pass", document=doc))
        return
    what = "; ".join(f.describe() for f in findings)
    ev.add(Check(name=check, status="review" if all(f.evasive for f in findings) else "fail", document=doc,
                 found=what, message=f"the listing's {name} carries {what}"), "PROHIBITED_CONTENT")
