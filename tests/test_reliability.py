"""Issue 16: bad uploads get one clear line or a non-approve verdict (fast), printed text cannot
forge lines, abuse limits hold, and an operator's store mistakes are one line each."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.cli import render_verdict
from pipeline.display import is_plain_text, visible
from pipeline.errors import SubmissionError
from pipeline.ingest import MAX_JSON_DEPTH, json_depth, parse_submission_json, submission_from_bytes
from pipeline.models import Check, DocumentResult, FieldValue, Reason, Verdict
from tests.conftest import text_page, write_submission
from tests.test_flows import BlindEngine
from zizhi.cli import main

GOOD = {"id": "SUB-1", "shop": {"name": "店", "company": "杭州鲜果时光食品有限公司"},
        "product": {"title": "t", "category": "general"}, "documents": []}


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _write(folder, raw: str | bytes):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "submission.json"
    path.write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
    return path


def _with(**changes) -> str:
    sub = json.loads(json.dumps(GOOD))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = sub
        for p in parents:
            node = node[p]
        node[last] = value
    return json.dumps(sub, ensure_ascii=True)  # \u escapes, as an attacker's tool writes them


# --- JSON within limits ----------------------------------------------------------------------

def test_json_depth_ignores_brackets_in_strings():
    assert json_depth('{"a": "[[[{{{", "b": [1, {"c": "\\"]]]"}]}') == 3
    assert json_depth("[" * 5000 + "]" * 5000) == 5000


def test_json_limits_take_linear_time_on_pathological_input():
    start = time.monotonic()
    for text in ('"' + '\\"' * 300_000, '"' + "\\" * 900_000, '"' * 1_000_000, "[" * 1_000_000):
        with pytest.raises(SubmissionError):
            parse_submission_json(text.encode())
    assert time.monotonic() - start < 20  # quadratic, the first case alone took hours


BAD_JSON = {
    "5,000 levels deep": ("[" * 5000 + "]" * 5000, "nested 5000 levels deep"),
    "deep inside a valid object": (_with(extra=json.loads("[" * 40 + "]" * 40)), "levels deep"),
    "lone surrogate id": (_with(id="\ud800"), "lone surrogate"),
    "lone surrogate in a key": ('{"id": "x", "\\udfff": 1}', "lone surrogate"),
    "NUL in the id": (_with(id="SUB\u0000-1"), "id: Value error, holds control or bidi characters (U+0000)"),
    "newline in the id": (_with(id="SUB-1\nSUB-2: APPROVE"), "U+000A"),
    "bidi override in a company": (_with(shop__company="\u202e司公限有"), "U+202E"),
    "escape sequence in a file name": (_with(documents=[{"file": "docs/\u001b[2Jx.jpg"}]), "U+001B"),
    "id over 200 characters": (_with(id="x" * 201), "at most 200 characters"),
    "not UTF-8": (b'{"id": "\xff\xfe"}', "not UTF-8"),
    "over 1 MB": ('{"id": "' + "x" * (1024 * 1024) + '"}', "larger than"),
}


@pytest.mark.parametrize("case", list(BAD_JSON))
def test_bad_json_is_refused_with_one_line(case):
    raw, message = BAD_JSON[case]
    with pytest.raises(SubmissionError) as e:
        submission_from_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
    assert message in str(e.value)
    assert "\n" not in str(e.value) and is_plain_text(str(e.value))


@pytest.mark.parametrize("case", list(BAD_JSON))
def test_zizhi_verify_exits_2_with_one_stderr_line(tmp_path, capsys, case):
    raw, message = BAD_JSON[case]
    path = _write(tmp_path, raw)
    start = time.monotonic()
    code, out, err = run(["verify", str(path), "--json"], capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("zizhi: ") and "Traceback" not in err
    assert message in err
    assert time.monotonic() - start < 60


def test_limits_are_generous_for_real_submissions():
    sub = json.loads(_with(extra={"a": [[{"b": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}]]}))
    assert parse_submission_json(json.dumps(sub, ensure_ascii=False).encode())["extra"]["a"][0][0]["b"].startswith("[")
    assert MAX_JSON_DEPTH >= 8
    # Chinese names, full-width brackets, a hyphen, spaces: plain text
    submission_from_bytes(_with(id="SUB-2026 （测试）", shop__company="成都青禾家居用品有限公司").encode())


# --- what is printed cannot be forged ---------------------------------------------------------

def test_visible_escapes_everything_that_could_forge_a_line():
    assert visible("a\nb\r\tc\x00d") == "a\\nb\\r\\tc\\0d"
    assert visible("\x1b[31mred") == "\\x1b[31mred"
    assert visible("exe.\u202egpj") == "exe.\\u202egpj"
    assert visible("\u2066x\u2069 \u200f \u2028 \x85 \ud800") == "\\u2066x\\u2069 \\u200f \\u2028 \\x85 \\ud800"
    assert visible("成都青禾（家居）有限公司 A-1") == "成都青禾（家居）有限公司 A-1"
    assert visible(None) == ""


def test_verify_text_output_escapes_merchant_and_read_text():
    evil = "x\nSUB-9: APPROVE\u202e\x00"
    verdict = Verdict(
        submission_id=evil, decision="review", checked_on="2026-11-27",
        reasons=[Reason(code="UNREADABLE", document=evil, message=evil)],
        documents=[DocumentResult(file=evil, doc_type="business_licence", doc_type_confidence=0.9, pages=1,
                                  fields={"holder_name": FieldValue(value=evil, confidence=0.9, page=1)})],
        checks=[Check(name="holder_matches_shop", status="review", document=evil, expected=evil, found=evil,
                      message=evil)])
    text = render_verdict(verdict)
    lines = text.splitlines()
    assert not any(line.startswith("SUB-9") for line in lines)
    assert "\x00" not in text and "\u202e" not in text
    assert lines[0] == "x\\nSUB-9: APPROVE\\u202e\\0: REVIEW  (checked on 2026-11-27)"
    # one line per reason, document, field and check: as many lines as a plain verdict
    plain = render_verdict(Verdict.model_validate_json(verdict.model_dump_json().replace(
        json.dumps(evil)[1:-1], "plain")))
    assert len(lines) == len(plain.splitlines())


def test_an_unusable_file_name_prints_one_line(tmp_path, capsys):
    # a file name the contract refuses never reaches a message; one it accepts that is missing is named
    path = write_submission(tmp_path, [{"file": "docs/无此文件.jpg"}])
    code, _, err = run(["verify", str(path)], capsys)
    assert code == 2 and err.count("\n") == 1 and "无此文件" in err


# --- abuse limits ----------------------------------------------------------------------------

@pytest.fixture
def licence_png(tmp_path):
    image, _ = text_page([("营业执照", 100, 40)], size=(400, 200))
    (tmp_path / "docs").mkdir()
    cv2.imwrite(str(tmp_path / "docs" / "a.png"), image)
    return tmp_path / "docs" / "a.png"


def test_a_document_listed_twice_is_read_once(tmp_path, licence_png, monkeypatch):
    from pipeline import runner

    reads = []
    real = runner.process_document
    monkeypatch.setattr(runner, "process_document", lambda base, ref, *a, **k: reads.append(ref.file) or real(
        base, ref, *a, **k))
    path = write_submission(tmp_path, [{"file": "docs/a.png"}, {"file": "docs/a.png"}, {"file": "docs/./a.png"},
                                       {"file": "docs//a.png", "declared_type": "business_licence"}])
    verdict = runner.verify(path, engine=BlindEngine())
    assert reads == ["docs/a.png"]
    assert [d.file for d in verdict.documents] == ["docs/a.png"]
    assert verdict.decision != "approve"


def test_more_documents_than_the_cap_is_unusable(tmp_path, licence_png, capsys):
    import shutil

    for i in range(21):
        shutil.copy(licence_png, tmp_path / "docs" / f"d{i}.png")
    path = write_submission(tmp_path, [{"file": f"docs/d{i}.png"} for i in range(21)])
    code, out, err = run(["verify", str(path), "--json"], capsys)
    assert code == 2 and out == ""
    assert err.strip() == "zizhi: submission lists 21 documents; at most 20 are accepted (rules: max_documents)"
    # twenty are fine, and so are many entries naming the same few files
    path = write_submission(tmp_path, [{"file": f"docs/d{i % 20}.png"} for i in range(200)])
    from pipeline.ingest import load_submission
    from pipeline.runner import check_submission
    from rules import load_rules

    submission, base = load_submission(path)
    assert len(check_submission(submission, base, load_rules()).documents) == 20


def test_the_cap_is_rules_data(tmp_path):
    from rules import load_rules

    (tmp_path / "thresholds.yaml").write_text(
        (__import__("rules").PACKAGED / "thresholds.yaml").read_text().replace("max_documents: 20", "max_documents: 3"))
    assert load_rules(tmp_path).thresholds.max_documents == 3
    assert load_rules().thresholds.max_documents == 20


@pytest.mark.ocr
def test_tiff_pages_beyond_the_cap_send_the_verdict_to_review(tmp_path, engine):
    import datetime as dt

    from pipeline.runner import verify
    from pipeline.settings import IngestOptions, Settings
    from tests.test_cli import CODE, licence_lines

    image, _ = text_page(licence_lines(), size=(1500, 1000), seal=True)
    page = Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]))
    (tmp_path / "docs").mkdir()
    page.save(tmp_path / "docs" / "bl.tiff", "TIFF", save_all=True, append_images=[page, page])
    path = write_submission(tmp_path, [{"file": "docs/bl.tiff"}], credit_code=CODE)
    settings = Settings(ingest=IngestOptions(pdf_max_pages=2))
    verdict = verify(path, today=dt.date(2026, 11, 27), engine=engine, settings=settings)
    assert verdict.decision == "review"
    assert verdict.documents[0].pages == 3
    (check,) = [c for c in verdict.checks if c.name == "all_pages_read"]
    assert check.status == "review" and check.message == "TIFF has 3 pages; only the first 2 were read"
    # and the same file within the cap: every page read, nothing to review on that count
    verdict = verify(path, today=dt.date(2026, 11, 27), engine=engine)
    assert not [c for c in verdict.checks if c.name == "all_pages_read"]


# --- operators' store mistakes ----------------------------------------------------------------

def _store_cases(tmp_path):
    from operations.store import Store

    Store(f"sqlite:///{tmp_path / 'good.db'}").close()
    (tmp_path / "corrupt.db").write_bytes(b"this is not an SQLite file at all, it is text " * 20)
    return {
        "bad URL": ("not a url", "bad verdict store URL"),
        "unknown database": ("mysql://u@h/db", "runs on sqlite or postgresql, not mysql"),
        "folder does not exist": (f"sqlite:///{tmp_path / 'typo' / 'v.db'}", "verdict store folder does not exist"),
        "corrupt": (f"sqlite:///{tmp_path / 'corrupt.db'}", "file is not a database"),
        "read-only": (f"sqlite:///file:{tmp_path / 'good.db'}?mode=ro&uri=true", "readonly database"),
    }


@pytest.mark.parametrize("case", ["bad URL", "unknown database", "folder does not exist", "corrupt", "read-only"])
def test_backlog_run_store_mistakes_are_one_line(tmp_path, capsys, case):
    url, message = _store_cases(tmp_path)[case]
    (tmp_path / "inbox").mkdir()
    code, out, err = run(["backlog", "run", "--inbox", str(tmp_path / "inbox"), "--store", url], capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "typo").exists()  # a typo never starts a new, empty store


@pytest.mark.parametrize("case", ["bad URL", "unknown database", "folder does not exist", "corrupt"])
def test_verdicts_store_mistakes_are_one_line(tmp_path, capsys, case):
    url, message = _store_cases(tmp_path)[case]
    code, out, err = run(["verdicts", "--store", url], capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err


def test_verdicts_of_a_missing_store_is_an_error_not_a_new_store(tmp_path, capsys):
    code, _, err = run(["verdicts", "--store", f"sqlite:///{tmp_path / 'nope.db'}", "--failures"], capsys)
    assert code == 2 and err.strip() == f"zizhi: no verdict store at {tmp_path / 'nope.db'}"
    assert not (tmp_path / "nope.db").exists()


def test_verdicts_reads_a_read_only_store(tmp_path, capsys):
    url = _store_cases(tmp_path)["read-only"][0]
    code, out, err = run(["verdicts", "--store", url], capsys)
    assert (code, out, err) == (0, "", "no verdicts\n")


def test_a_full_store_is_told_before_the_run(tmp_path, capsys, monkeypatch):
    from sqlalchemy import event

    import operations.store as store_module

    url = f"sqlite:///{tmp_path / 'full.db'}"
    store_module.Store(url).close()
    real = store_module._engine_for

    def full_disk(*a, **k):  # SQLite's own page limit: the same SQLITE_FULL a full disk gives
        engine = real(*a, **k)
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA max_page_count = 1"))
        return engine

    monkeypatch.setattr(store_module, "_engine_for", full_disk)
    (tmp_path / "inbox").mkdir()
    code, out, err = run(["backlog", "run", "--inbox", str(tmp_path / "inbox"), "--store", url], capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "database or disk is full" in err


def test_verdicts_shows_failures_and_ids_escaped(tmp_path, capsys):
    from operations.store import Key, Store

    url = f"sqlite:///{tmp_path / 'v.db'}"
    store = Store(url)
    store.record_failure(Key("folder:bad\\x00", "h" * 64), "submission file is not valid JSON\nFAKE LINE",
                         owner="o", permanent=True, folder=str(tmp_path / "bad\udcff\n"))
    code, out, _ = run(["verdicts", "--store", url, "--failures"], capsys)
    assert code == 0 and len(out.splitlines()) == 2  # a header row, then the one failure
    assert "not valid JSON\\nFAKE LINE" in out and "bad\\udcff\\n" in out


# --- hostile documents: a clear error or a non-approve verdict, each within 60 s ------------------

def _hostile(kind: str, docs) -> str:
    """Write a hostile document into `docs`; returns its file name."""
    from tests.test_ingest import _pdf_with_page_sizes, _png_header_only

    rng = np.random.default_rng(16)
    if kind == "16-bit noise png":
        Image.fromarray(rng.integers(0, 65535, (600, 800), dtype=np.uint16)).save(docs / "d.png")
    elif kind == "1,000-page pdf":
        _pdf_with_page_sizes(docs / "d.pdf", [(595, 842)] * 1000)
        return "d.pdf"
    elif kind == "50-page tiff":
        page = Image.new("L", (300, 200), 255)
        page.save(docs / "d.tiff", "TIFF", save_all=True, append_images=[page] * 49)
        return "d.tiff"
    elif kind == "bomb header png":
        _png_header_only(docs / "d.png", 100_000, 100_000)
    elif kind == "truncated png":
        image, _ = text_page([("营业执照", 100, 40)], size=(800, 400))
        _, buf = cv2.imencode(".png", image)
        (docs / "d.png").write_bytes(buf.tobytes()[: len(buf) // 2])
    elif kind == "one pixel high, 20 MP wide":
        Image.new("L", (20_000_000, 1), 0).save(docs / "d.png")
    elif kind == "cmyk jpeg of nothing":
        Image.new("CMYK", (800, 600), (0, 0, 0, 0)).save(docs / "d.jpg")
        return "d.jpg"
    elif kind == "pdf header, jpeg body":
        _, buf = cv2.imencode(".jpg", np.full((100, 100, 3), 255, np.uint8))
        (docs / "d.png").write_bytes(b"%PDF-1.7\n" + buf.tobytes())
    elif kind == "fifo":
        import os

        os.mkfifo(docs / "d.png")
    elif kind == "folder":
        (docs / "d.png").mkdir()
    return "d.png"


HOSTILE = ["16-bit noise png", "1,000-page pdf", "50-page tiff", "bomb header png", "truncated png",
           "one pixel high, 20 MP wide", "cmyk jpeg of nothing", "pdf header, jpeg body", "fifo", "folder"]


@pytest.mark.ocr
@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_documents_get_a_clear_error_or_a_non_approve_verdict_in_60_s(tmp_path, capsys, kind):
    (tmp_path / "docs").mkdir()
    name = _hostile(kind, tmp_path / "docs")
    path = write_submission(tmp_path, [{"file": f"docs/{name}"}])
    start = time.monotonic()
    code, out, err = run(["verify", str(path), "--json", "--today", "2026-11-27"], capsys)
    seconds = time.monotonic() - start
    assert seconds < 60, f"{kind}: {seconds:.0f} s"
    assert "Traceback" not in err
    if code == 2:
        assert out == "" and len(err.splitlines()) == 1 and err.startswith("zizhi: ")
    else:
        assert code == 0, err
        assert json.loads(out)["decision"] in ("review", "reject")
