"""Every image mode decodes to the pixels a viewer shows (issue 16, item 4): a licence from the
fixtures saved as 16-bit grey, CMYK, palette, with alpha, grey… reads as the 8-bit RGB original."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.ingest import load_document, load_document_bytes
from pipeline.settings import IngestOptions
from tests.conftest import SUBMISSIONS

OPTS = IngestOptions()
LICENCE = SUBMISSIONS / "demo" / "docs" / "business_licence.jpg"


@pytest.fixture(scope="module")
def licence() -> Image.Image:
    """The demo's business licence at half size (the modes are what is under test, not the size)."""
    with Image.open(LICENCE) as im:
        return im.convert("RGB").reduce(2)


def _grey(rgb: Image.Image) -> np.ndarray:
    return np.asarray(rgb.convert("L"), dtype=np.float64)


def _decoded_grey(data: bytes, name: str = "doc") -> np.ndarray:
    doc = load_document_bytes(data, Path(name), OPTS)
    bgr = doc.pages[0].astype(np.float64)
    return 0.114 * bgr[:, :, 0] + 0.587 * bgr[:, :, 1] + 0.299 * bgr[:, :, 2]


def _saved(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _sixteen_bit(grey8: np.ndarray, full_scale: int = 65535) -> Image.Image:
    return Image.fromarray((grey8.astype(np.uint32) * full_scale // 255).astype(np.uint16))


def _on_transparent(licence: Image.Image) -> Image.Image:
    """The licence as black ink of varying opacity on fully transparent paper (what a 'remove
    background' tool makes): over white it is the licence's grey; with alpha dropped, a black page."""
    grey = np.asarray(licence.convert("L"))
    rgba = np.zeros(grey.shape + (4,), np.uint8)
    rgba[:, :, 3] = 255 - grey
    return Image.fromarray(rgba, "RGBA")


@pytest.fixture(scope="module")
def modes(licence) -> dict[str, bytes]:
    return _modes(licence)


def _modes(licence: Image.Image) -> dict[str, bytes]:
    grey8 = np.asarray(licence.convert("L"))
    palette_t = licence.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    palette_t.info["transparency"] = 255  # an unused index: nothing turns transparent
    return {
        "L png": _saved(licence.convert("L"), "PNG"),
        "I;16 png (16-bit grey)": _saved(_sixteen_bit(grey8), "PNG"),
        "I;16 tiff (16-bit grey)": _saved(_sixteen_bit(grey8), "TIFF"),
        "12-bit grey in a 16-bit png": _saved(_sixteen_bit(grey8, 4095), "PNG"),
        "CMYK jpeg": _saved(licence.convert("CMYK"), "JPEG", quality=95),
        "CMYK tiff": _saved(licence.convert("CMYK"), "TIFF"),
        "P png": _saved(licence.convert("P", palette=Image.Palette.ADAPTIVE, colors=64), "PNG"),
        "P png with a transparency index": _saved(palette_t, "PNG"),
        "RGBA png, transparent paper": _saved(_on_transparent(licence), "PNG"),
        "LA png, transparent paper": _saved(_on_transparent(licence).convert("LA"), "PNG"),
        "RGBA webp, opaque": _saved(licence.convert("RGBA"), "WEBP", lossless=True),
        "1 (bilevel) tiff": _saved(licence.convert("L").point(lambda v: 255 if v > 128 else 0).convert("1"), "TIFF"),
        "F tiff (float grey 0-1)": _saved(Image.fromarray((grey8 / 255.0).astype(np.float32), "F"), "TIFF"),
    }


@pytest.mark.parametrize("mode", list(_modes(Image.new("RGB", (4, 4), "white"))))
def test_every_mode_decodes_to_the_licence_pixels(licence, modes, mode):
    reference = _grey(licence)
    data = modes[mode]
    got = _decoded_grey(data)
    assert got.shape == reference.shape
    diff = np.abs(got - reference)
    # Lossy or quantised modes (JPEG, a 64-colour palette, a bilevel page) differ a little per pixel;
    # a wrong decode (a white or black page, clipped 16-bit) is off by ~100 on average.
    tolerance = {"1 (bilevel) tiff": 40, "P png": 12, "P png with a transparency index": 12}.get(mode, 6)
    assert diff.mean() < tolerance, f"{mode}: mean difference {diff.mean():.1f}"
    # the page is paper-white where the licence is, and the ink is dark where it is
    paper, ink = reference > 230, reference < 80
    assert got[paper].mean() > 215 and got[ink].mean() < 110, mode


def test_sixteen_bit_grey_is_not_clipped_white(licence, modes):
    """The bug the issue reports: Pillow's convert('RGB') clips I;16 at 255, a white page."""
    data = modes["I;16 png (16-bit grey)"]
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode.startswith("I")
        naive = np.asarray(im.convert("RGB"))
    assert naive.mean() > 250  # what it was decoded as before
    assert _decoded_grey(data).mean() < np.asarray(licence.convert("L")).mean() + 2


def test_multi_page_tiff_follows_the_page_cap_and_reports_it(tmp_path, licence):
    small = licence.reduce(4)
    path = tmp_path / "pages.tiff"
    small.save(path, "TIFF", save_all=True, append_images=[small.rotate(180), small, small])
    doc = load_document(path, IngestOptions(pdf_max_pages=2))
    assert doc.page_count == 4 and len(doc.pages) == 2 and doc.skipped_pages == [3, 4]
    assert doc.notes == ["TIFF has 4 pages; only the first 2 were read"]
    whole = load_document(path, OPTS)
    assert len(whole.pages) == 4 and whole.notes == [] and whole.skipped_pages == []


@pytest.mark.ocr
def test_a_sixteen_bit_png_licence_reads_like_the_eight_bit_one(tmp_path, licence, engine):
    from pipeline.runner import verify

    with Image.open(LICENCE) as im:
        grey8 = np.asarray(im.convert("L"))
    verdicts = {}
    for name, img in (("grey8", Image.fromarray(grey8)), ("grey16", _sixteen_bit(grey8))):
        folder = tmp_path / name
        shutil.copytree(SUBMISSIONS / "demo", folder)
        (folder / "docs" / "business_licence.jpg").unlink()
        img.save(folder / "docs" / "licence.png")
        sub = json.loads((folder / "submission.json").read_text(encoding="utf-8"))
        sub["documents"] = [{"file": "docs/licence.png"}]
        (folder / "submission.json").write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")
        verdicts[name] = verify(folder / "submission.json", today=dt.date(2026, 11, 27),
                                engine=engine)
    eight, sixteen = verdicts["grey8"], verdicts["grey16"]
    assert sixteen.decision == eight.decision
    assert {r.code for r in sixteen.reasons} == {r.code for r in eight.reasons}
    fields8 = {k: f.value for k, f in eight.documents[0].fields.items()}
    fields16 = {k: f.value for k, f in sixteen.documents[0].fields.items()}
    assert fields16 == fields8 and fields8.get("holder_name") == "成都青禾家居用品有限公司"
    assert sixteen.documents[0].doc_type == "business_licence"
