"""A document's reading kept in the verdict store: plain JSON, checked on load, never trusted blindly."""

from __future__ import annotations

import json
import os
import zlib

import numpy as np
import pytest
from sqlalchemy import select, update

from operations.readings import BadReading, SharedReadings, decode_reading, encode_reading
from operations.store import Store, readings
from pipeline.document import DocumentReading, read_document
from pipeline.models import DocumentRef
from pipeline.settings import get_settings
from tests.conftest import SUBMISSIONS

KEY = "k" * 24


@pytest.fixture(scope="module")
def reading(engine) -> DocumentReading:
    # the demo licence: a page with lines, transforms, capture signals and a seal with CTC posteriors
    r = read_document(SUBMISSIONS / "demo", DocumentRef(file="docs/business_licence.jpg"), engine, get_settings())
    assert r.load_error is None and r.pages and r.pages[0].lines
    return r


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'v.db'}")
    yield s
    s.close()


def raw(reading: DocumentReading) -> dict:
    return json.loads(zlib.decompress(encode_reading(reading)))


def pack(obj) -> bytes:
    return zlib.compress(json.dumps(obj, ensure_ascii=False).encode())


@pytest.mark.ocr
def test_a_reading_comes_back_equal(reading):
    back = decode_reading(encode_reading(reading))
    assert encode_reading(back) == encode_reading(reading)
    page, again = reading.pages[0], back.pages[0]
    assert [ln.text for ln in again.lines] == [ln.text for ln in page.lines]
    assert [ln.model for ln in again.lines] == [ln.model for ln in page.lines] and page.lines[0].model
    assert np.array_equal(again.transform.matrix, page.transform.matrix)
    assert again.transform.size == page.transform.size and isinstance(again.transform.size, tuple)
    assert np.array_equal(again.lines[0].quad_original, page.lines[0].quad_original)
    assert again.lines[0].quad.dtype == page.lines[0].quad.dtype
    assert back.signals.keys() == reading.signals.keys() and back.rainbow == reading.rainbow
    seals = reading.seals.get(1) or []
    assert seals and seals[0].posteriors, "the demo licence has a seal read with CTC posteriors"
    assert np.array_equal(back.seals[1][0].posteriors[0].probs, seals[0].posteriors[0].probs)
    assert back.seals[1][0].posteriors[0].reading == seals[0].posteriors[0].reading


def test_the_re_read_attempts_come_back_too():
    from pipeline.rereads import Reread

    r = DocumentReading(file="x.jpg", sha256="a" * 64, page_count=1,
                        rereads={1: [Reread("credit_code", "enlarged ×2", "91510107MA59G2WX04", True, "kept")]})
    assert decode_reading(encode_reading(r)).rereads == r.rereads


@pytest.mark.ocr
@pytest.mark.parametrize("tamper", [
    lambda r: r.update({"$": "Popen"}),                                       # a class that is no part of a reading
    lambda r: r.update({"extra": 1}),                                         # a field the dataclass has not
    lambda r: r.pop("notes"),                                                 # a field missing
    lambda r: r.update({"page_count": "1"}),                                  # wrong type
    lambda r: r["pages"][0].update({"$": "DocumentReading"}),                 # the wrong class in a typed slot
    lambda r: r["pages"][0]["lines"][0]["quad"].update({"shape": [5, 2]}),    # an array that does not fit its data
    lambda r: r["pages"][0]["lines"][0]["quad"].update({"$nd": "|O"}),        # object arrays (pickle) refused
    lambda r: r["pages"][0]["transform"]["size"].update({"$tuple": [1]}),     # a tuple of the wrong length
    lambda r: r["seals"]["$map"][0][1].append({"$": "ErrorItem"}),            # an untyped slot: only reading classes
])
def test_a_tampered_reading_is_refused(reading, tamper):
    r = raw(reading)
    tamper(r)
    with pytest.raises(BadReading):
        decode_reading(pack(r))


def test_garbage_and_bombs_are_refused():
    for blob in (b"", b"not zlib", zlib.compress(b"\xff\xfe"), zlib.compress(b"[1, 2]"), pack({"$": "DocumentReading"}),
                 zlib.compress(b"[" * 100_000 + b"]" * 100_000), zlib.compress(b" " * (80 << 20))):
        with pytest.raises(BadReading):
            decode_reading(blob)


@pytest.mark.ocr
def test_store_keeps_one_reading_per_key_and_digest(store, reading):
    shared = SharedReadings(store)
    assert shared.get(KEY, reading.sha256) is None
    assert shared.put(KEY, reading) and not shared.put(KEY, reading)  # the second writer keeps the first row
    got = shared.get(KEY, reading.sha256)
    assert got is not None and encode_reading(got) == encode_reading(reading)
    assert shared.get("other-key", reading.sha256) is None  # another engine or code: not this reading
    assert (shared.hits, shared.misses) == (1, 2)


@pytest.mark.ocr
def test_a_row_filed_under_other_bytes_is_refused_and_dropped(store, reading):
    shared = SharedReadings(store)
    other = "0" * 64
    with store.engine.begin() as conn:  # a foreign row: a valid reading, under another file's digest
        conn.execute(readings.insert().values(reading_key=KEY, sha256=other, format=1, size=1,
                                              data=encode_reading(reading), created_at=store_now()))
    assert shared.get(KEY, other) is None and shared.refused == 1
    with store.engine.connect() as conn:
        assert conn.execute(select(readings)).first() is None  # dropped, so the next read can keep its own


@pytest.mark.ocr
def test_a_corrupt_row_is_read_again_never_trusted(store, reading):
    shared = SharedReadings(store)
    assert shared.put(KEY, reading)
    with store.engine.begin() as conn:
        conn.execute(update(readings).values(data=b"\x78\x9c garbage"))
    assert shared.get(KEY, reading.sha256) is None and shared.refused == 1
    assert shared.put(KEY, reading) and shared.get(KEY, reading.sha256) is not None


@pytest.mark.ocr
def test_with_a_secret_only_signed_rows_are_used(store, reading):
    unsigned = SharedReadings(store)
    assert unsigned.put(KEY, reading)
    signed = SharedReadings(store, b"s3cret")
    assert signed.get(KEY, reading.sha256) is None and signed.refused == 1  # well-formed, but not signed
    assert signed.put(KEY, reading) and signed.get(KEY, reading.sha256) is not None
    assert SharedReadings(store, b"another").get(KEY, reading.sha256) is None  # signed with another key


@pytest.mark.ocr
def test_a_failed_load_is_never_shared(store):
    shared = SharedReadings(store)
    failed = DocumentReading(file="x.jpg", sha256="a" * 64, load_error="corrupt image")
    assert not shared.put(KEY, failed)


def test_a_store_that_fails_is_a_miss_not_an_error(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'v.db'}")
    shared = SharedReadings(s)
    with s.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE readings")
    assert shared.get(KEY, "a" * 64) is None
    assert not shared.put(KEY, DocumentReading(file="x.jpg", sha256="a" * 64))
    s.close()


@pytest.mark.ocr
@pytest.mark.skipif(not os.environ.get("ZIZHI_TEST_POSTGRES_URL"), reason="set ZIZHI_TEST_POSTGRES_URL "
                    "(postgresql+psycopg://…) to run the shared readings against PostgreSQL")
def test_shared_readings_on_postgresql(reading):
    s = Store(os.environ["ZIZHI_TEST_POSTGRES_URL"])
    with s.engine.begin() as conn:
        conn.execute(readings.delete())
    shared = SharedReadings(s, b"s3cret")
    assert shared.put(KEY, reading) and not shared.put(KEY, reading)
    got = shared.get(KEY, reading.sha256)
    assert got is not None and encode_reading(got) == encode_reading(reading)
    s.close()


def store_now():
    from operations.store import utcnow

    return utcnow()


@pytest.mark.ocr
def test_the_flows_ocr_step_reads_a_licence_once_per_store(tmp_path, monkeypatch, engine):
    import shutil

    import flows
    from operations.backlog import file_sha256

    url = f"sqlite:///{tmp_path / 'v.db'}"
    licence = SUBMISSIONS / "demo" / "docs" / "business_licence.jpg"
    digest = file_sha256(licence)
    first = flows.read_document_task.fn(str(SUBMISSIONS / "demo"), DocumentRef(file="docs/business_licence.jpg"),
                                        digest, KEY, "SUB-1", url)
    # Another listing of the same shop, on another worker: the same bytes under another name. It must
    # come from the store: the engine is never asked.
    other = tmp_path / "listing-2"
    (other / "docs").mkdir(parents=True)
    shutil.copyfile(licence, other / "docs" / "licence.jpg")
    monkeypatch.setattr(flows, "_shared", {})  # a fresh process
    monkeypatch.setattr(flows, "read_document", lambda *a, **k: pytest.fail("the licence was read again"))
    second = flows.read_document_task.fn(str(other), DocumentRef(file="docs/licence.jpg"), digest, KEY, "SUB-2", url)
    assert second.file == "docs/licence.jpg" and second.sha256 == digest
    assert [ln.text for ln in second.pages[0].lines] == [ln.text for ln in first.pages[0].lines]
    assert flows.shared_readings(url).hits == 1
    # ZIZHI_OCR_CACHE=false: no store lookup either
    monkeypatch.setenv("ZIZHI_OCR_CACHE", "false")
    assert flows.shared_readings(url + "-off") is None
