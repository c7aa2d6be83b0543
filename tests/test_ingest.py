"""Bad input gets a clear error and loses nothing: every case of the verify issue's item 4."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import DocumentError, SubmissionError, UnsafePathError
from pipeline.ingest import load_document, load_submission, resolve_document_path
from pipeline.settings import IngestOptions

OPTS = IngestOptions()


def _jpeg(path: Path, size=(300, 200), exif_orientation: int | None = None) -> Path:
    img = Image.new("RGB", size, "white")
    img.putpixel((5, 5), (255, 0, 0))
    kwargs = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif.tobytes()
    img.save(path, "JPEG", **kwargs)
    return path


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims `width`×`height` (a decompression bomb) with a tiny body."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "BMP", "JPEG"])
def test_every_image_format_loads_as_bgr(tmp_path, fmt):
    path = tmp_path / f"doc.{fmt.lower()}"
    Image.new("RGB", (64, 48), (10, 20, 200)).save(path, fmt)
    doc = load_document(path, OPTS)
    assert doc.kind == "image" and doc.page_count == 1
    page = doc.pages[0]
    assert page.shape == (48, 64, 3)
    assert abs(int(page[10, 10, 0]) - 200) <= 6  # BGR: blue first


def test_exif_orientation_is_applied(tmp_path):
    doc = load_document(_jpeg(tmp_path / "r.jpg", size=(300, 200), exif_orientation=6), OPTS)
    assert doc.pages[0].shape[:2] == (300, 200)  # turned upright as a viewer shows it


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"hello, not an image", "not a JPG"), (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "cannot be decoded"),
     (b"%PDF-1.4\n garbage", "PDF cannot be read")],
)
def test_corrupt_files_raise_document_error(tmp_path, content, message):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(DocumentError, match=message):
        load_document(path, OPTS)


def test_an_unidentifiable_image_reads_the_same_reason_every_time(tmp_path):
    path = tmp_path / "head.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 16)  # a JPEG signature and nothing Pillow can identify
    reasons = set()
    for _ in range(2):
        with pytest.raises(DocumentError, match="cannot be decoded") as e:
            load_document(path, OPTS)
        reasons.add(str(e.value))
    assert len(reasons) == 1 and "0x" not in reasons.pop()  # no memory address in a verdict's message


def test_truncated_jpeg_is_refused_or_loaded_never_crashes(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)).save(buf, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    try:
        doc = load_document(path, OPTS)
    except DocumentError as e:
        assert "cannot be decoded" in str(e)
    else:
        assert doc.pages[0].shape == (200, 300, 3)


def test_decompression_bomb_refused_before_decoding(tmp_path):
    path = _png_header_only(tmp_path / "bomb.png", 100_000, 100_000)
    with pytest.raises(DocumentError, match="refused before decoding"):
        load_document(path, OPTS)


@pytest.mark.parametrize(("w", "h", "why"), [(60_000, 1, "a side over"), (9_000, 40, "a strip rather than a page")])
def test_a_strip_is_refused_with_a_clear_reason(tmp_path, w, h, why):
    # (a 60000×1 PNG reached OpenCV's remap and its assertion text became the merchant's reason)
    path = tmp_path / "strip.png"
    Image.new("RGB", (w, h), (255, 255, 255)).save(path)
    with pytest.raises(DocumentError, match=why):
        load_document(path, OPTS)
    tall = tmp_path / "detail.png"  # a product's long detail picture is a page
    Image.new("RGB", (750, 15_000), (255, 255, 255)).save(tall)
    assert load_document(tall, OPTS).pages[0].shape[:2] == (15_000, 750)


def test_oversized_file_refused(tmp_path):
    path = _jpeg(tmp_path / "big.jpg")
    with pytest.raises(DocumentError, match="limit"):
        load_document(path, IngestOptions(max_file_bytes=100))


def test_pdf_pages_beyond_cap_are_reported(tmp_path):
    pages = [Image.new("RGB", (200, 280), (255, 255, 255)) for _ in range(5)]
    path = tmp_path / "many.pdf"
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=50)
    doc = load_document(path, IngestOptions(pdf_max_pages=3, pdf_dpi=50))
    assert doc.kind == "pdf" and doc.page_count == 5 and len(doc.pages) == 3
    assert doc.skipped_pages == [4, 5]
    assert any("only the first 3" in n for n in doc.notes)


def _pdf_with_page_sizes(path: Path, sizes: list[tuple[int, int]]) -> Path:
    """A minimal valid PDF of blank pages with the given MediaBox sizes (points)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (3 + i) for i in range(len(sizes)))
               + b"] /Count %d >>" % len(sizes)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] >>" % size for size in sizes]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_a_poster_size_page_after_a_small_one_is_rendered_within_the_pixel_limit(tmp_path):
    # Page 1 is A4; page 2 is 5 m square: at 200 dpi it would be 39,370² px (1.5 GP) and exhaust memory.
    path = _pdf_with_page_sizes(tmp_path / "poster.pdf", [(595, 842), (14173, 14173), (595, 842)])
    opts = IngestOptions(max_pixels=20_000_000)
    doc = load_document(path, opts)
    assert doc.pages[0].shape[:2] == (round(842 * 200 / 72), round(595 * 200 / 72))
    assert doc.pages[2].shape[:2] == doc.pages[0].shape[:2]  # A4 again at the configured dpi
    h, w = doc.pages[1].shape[:2]
    assert h * w <= opts.max_pixels and min(h, w) > 1000
    assert any("page(s) 2 are very large" in n for n in doc.notes)


@pytest.mark.parametrize("relative", ["../outside.jpg", "docs/../../outside.jpg", "/etc/passwd", "docs\\..\\..\\x",
                                      "a\x00b"])
def test_paths_outside_the_folder_are_refused(tmp_path, relative):
    (tmp_path / "sub").mkdir()
    _jpeg(tmp_path / "outside.jpg")
    with pytest.raises(UnsafePathError):
        resolve_document_path(tmp_path / "sub", relative)


def test_symlink_leading_out_is_refused(tmp_path):
    (tmp_path / "sub").mkdir()
    _jpeg(tmp_path / "secret.jpg")
    os.symlink(tmp_path / "secret.jpg", tmp_path / "sub" / "link.jpg")
    with pytest.raises(UnsafePathError, match="outside"):
        resolve_document_path(tmp_path / "sub", "link.jpg")


def test_symlink_inside_the_folder_is_fine(tmp_path):
    _jpeg(tmp_path / "real.jpg")
    os.symlink(tmp_path / "real.jpg", tmp_path / "alias.jpg")
    assert resolve_document_path(tmp_path, "alias.jpg") == (tmp_path / "real.jpg").resolve()


@pytest.mark.parametrize("relative", ["a" * 5000 + ".jpg", "a/" * 3000 + "x.jpg"])
def test_a_path_too_long_for_the_file_system_is_a_document_error(tmp_path, relative):
    with pytest.raises(DocumentError, match="File name too long"):  # not a bare OSError (a traceback)
        resolve_document_path(tmp_path, relative)


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ("[]", "does not match"), ('{"id": "x"}', "does not match"),
     ('{"id":"x","shop":{"name":"s","company":""},"product":{"category":"general"},"documents":[]}',
      "does not match")],
)
def test_bad_submission_files(tmp_path, content, message):
    path = tmp_path / "submission.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SubmissionError, match=message):
        load_submission(path)


@pytest.mark.parametrize("brand", [None, "", "   ", "\u3000"])
def test_a_blank_brand_is_an_unbranded_product(tmp_path, brand):
    path = tmp_path / "submission.json"
    path.write_text(json.dumps({"id": "x", "shop": {"name": "s", "company": "c"},
                                "product": {"category": "general", "brand": brand}, "documents": []}))
    assert load_submission(path)[0].product.brand is None  # no trademark certificate asked for


def test_missing_submission_and_binary_submission(tmp_path):
    with pytest.raises(SubmissionError, match="not found"):
        load_submission(tmp_path / "nope.json")
    path = tmp_path / "submission.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SubmissionError):
        load_submission(path)
