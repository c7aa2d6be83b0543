"""OCR engines: the settings union that picks one, and each engine really reading a document.

PaddleOCR is an optional extra installed in its own venv (`make install-paddle` → build/venv-paddle):
its test runs in this interpreter when it has paddleocr, else in build/venv-paddle's, and is skipped only
when neither has it. Tesseract needs `pip install .[tesseract]` and Debian's tesseract-ocr-chi-sim.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess

import pytest
from pydantic import ValidationError

from pipeline.ocr.tesseract import join_cjk
from pipeline.settings import IngestOptions, PaddleOcrOptions, RapidOcrOptions, Settings, TesseractOptions
from tests.conftest import ROOT, SUBMISSIONS

DEMO = SUBMISSIONS / "demo"
DEMO_TRUTH = json.loads((DEMO / "expected.json").read_text(encoding="utf-8"))["documents"]["docs/business_licence.jpg"]
PADDLE_VENV_PYTHON = ROOT / "build" / "venv-paddle" / "bin" / "python"


@pytest.fixture
def clean_env(monkeypatch):
    for k in list(os.environ):
        if k.startswith("ZIZHI_OCR"):
            monkeypatch.delenv(k)
    return monkeypatch


def test_default_engine_is_rapidocr_on_onnxruntime(clean_env):
    ocr = Settings().ocr
    assert isinstance(ocr, RapidOcrOptions) and ocr.engine == "onnxruntime"


def test_runtime_is_selectable_and_checked(clean_env):
    clean_env.setenv("ZIZHI_OCR__ENGINE", "openvino")
    assert Settings().ocr.engine == "openvino"
    with pytest.raises(ValidationError, match="engine"):
        Settings(ocr={"engine": "tensorrt"})


def test_threads_go_to_the_chosen_runtime():
    from pipeline.ocr.rapid import rapidocr_params

    ov = rapidocr_params(RapidOcrOptions(intra_op_num_threads=1, engine="openvino"))
    assert ov["EngineConfig.openvino.inference_num_threads"] == 1 and ov["Det.engine_type"].value == "openvino"
    assert not any(k.startswith("EngineConfig.onnxruntime") for k in ov)
    ort = rapidocr_params(RapidOcrOptions(intra_op_num_threads=1), "onnxruntime")
    assert ort["EngineConfig.onnxruntime.intra_op_num_threads"] == 1 and ort["Rec.engine_type"].value == "onnxruntime"


def test_kind_picks_the_engine_options(clean_env):
    clean_env.setenv("ZIZHI_OCR__KIND", "paddleocr")
    clean_env.setenv("ZIZHI_OCR__CPU_THREADS", "1")
    ocr = Settings().ocr
    assert isinstance(ocr, PaddleOcrOptions) and ocr.cpu_threads == 1
    clean_env.delenv("ZIZHI_OCR__KIND")
    clean_env.delenv("ZIZHI_OCR__CPU_THREADS")
    assert isinstance(Settings(ocr={"kind": "tesseract", "detector": "rapidocr"}).ocr, TesseractOptions)


def test_options_without_kind_tune_the_default_engine(clean_env):
    clean_env.setenv("ZIZHI_OCR__INTRA_OP_NUM_THREADS", "1")
    ocr = Settings().ocr
    assert isinstance(ocr, RapidOcrOptions) and ocr.intra_op_num_threads == 1


def test_unknown_kind_and_foreign_options_are_refused(clean_env):
    with pytest.raises(ValidationError, match="rapidocr"):
        Settings(ocr={"kind": "easyocr"})
    with pytest.raises(ValidationError, match="cpu_threads"):
        Settings(ocr={"kind": "rapidocr", "cpu_threads": 2})


def test_tesseract_spaces_between_chinese_characters_are_dropped():
    assert join_cjk("营 业 执 照") == "营业执照"
    assert join_cjk("注册资本 伍 佰 万 元") == "注册资本伍佰万元"
    assert join_cjk("统一社会信用代码 91510107MA59G2WX04") == "统一社会信用代码91510107MA59G2WX04"
    assert join_cjk("Room 805 Block 2") == "Room 805 Block 2"


def read_demo(ocr: dict) -> dict:
    """doc_type and fields of the demo licence, read with the engine `ocr` selects."""
    from pipeline.document import process_document
    from pipeline.models import DocumentRef
    from pipeline.ocr.base import load_engine

    settings = Settings(ocr=ocr)
    engine = load_engine(settings.ocr)
    work = process_document(DEMO, DocumentRef(file="docs/business_licence.jpg"), engine, settings)
    return {"doc_type": work.result.doc_type, "engine": engine.name, "version": engine.version,
            "text": "\n".join(r.text for r in work.readings),
            "fields": {k: v.value for k, v in work.result.fields.items()}}


@pytest.mark.ocr
@pytest.mark.parametrize("runtime", ["openvino", "onnxruntime"])
def test_rapidocr_reads_the_demo_licence_on_each_runtime(runtime):
    got = read_demo({"kind": "rapidocr", "engine": runtime})
    assert got["engine"] == "rapidocr" and got["doc_type"] == "business_licence" and runtime in got["version"]
    for name, value in DEMO_TRUTH["fields"].items():
        assert got["fields"].get(name) == value, name


@pytest.mark.ocr
def test_paddleocr_reads_the_demo_licence_offline():
    if importlib.util.find_spec("paddleocr") is not None:
        got = read_demo({"kind": "paddleocr"})
    elif PADDLE_VENV_PYTHON.exists():
        code = ("import json, sys; from tests.test_engines import read_demo; "
                "print(json.dumps(read_demo({'kind': 'paddleocr'}), ensure_ascii=False))")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZIZHI_")}
        proc = subprocess.run([str(PADDLE_VENV_PYTHON), "-c", code], check=False, capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        got = json.loads(proc.stdout.strip().splitlines()[-1])
    else:
        pytest.skip("PaddleOCR extra not installed: `make install-paddle` (creates build/venv-paddle)")
    assert got["engine"] == "paddleocr"
    assert got["doc_type"] == "business_licence"
    for name in ("holder_name", "credit_code", "legal_representative", "valid_until"):
        assert got["fields"].get(name) == DEMO_TRUTH["fields"][name], name


def _tesseract_ready() -> str | None:
    if importlib.util.find_spec("tesserocr") is None:
        return "tesserocr not installed: pip install .[tesseract]"
    from pipeline.ocr.tesseract import find_tessdata

    try:
        find_tessdata("chi_sim")
    except RuntimeError as e:
        return str(e)
    return None


@pytest.mark.ocr
def test_tesseract_reads_the_demo_licence():
    reason = _tesseract_ready()
    if reason:
        pytest.skip(reason)
    got = read_demo({"kind": "tesseract"})
    assert got["engine"] == "tesseract"
    # A weak baseline: its layout analysis merges columns, but it does read the page.
    assert "木制容器制造" in got["text"] and DEMO_TRUTH["fields"]["credit_code"][:16] in got["text"]
    # With RapidOCR's lines, Tesseract's reading gets the plainest field right.
    got = read_demo({"kind": "tesseract", "detector": "rapidocr"})
    assert got["fields"].get("credit_code") == DEMO_TRUTH["fields"]["credit_code"]


@pytest.mark.ocr
def test_get_engine_loads_once_per_options(clean_env):
    from pipeline.ocr.base import get_engine

    a = get_engine(RapidOcrOptions())
    assert get_engine(RapidOcrOptions()) is a
    assert a.name == "rapidocr" and a.model_ids
    assert get_engine(RapidOcrOptions(intra_op_num_threads=1)) is not a
    get_engine(RapidOcrOptions())  # leave the default engine loaded for the next tests


def test_rec_streams_follow_the_threads():
    from pipeline.ocr.rapid import rec_streams

    assert rec_streams(RapidOcrOptions()) == min(4, os.cpu_count() or 1)  # one process owns the cores
    assert rec_streams(RapidOcrOptions(intra_op_num_threads=1)) == 1  # a worker pool: one core each
    assert rec_streams(RapidOcrOptions(intra_op_num_threads=1, rec_streams=3)) == 3
    assert rec_streams(RapidOcrOptions(engine="openvino", rec_streams=3)) == 1  # one infer request at a time
    with pytest.raises(ValidationError, match="rec_streams"):
        RapidOcrOptions(rec_streams=-1)


@pytest.mark.ocr
def test_rec_streams_read_every_line_exactly_as_one_call():
    """Batches side by side are RapidOCR's own batches: the same text and score for every line."""
    from pipeline import geometry as geo
    from pipeline.ingest import load_document
    from pipeline.ocr.rapid import RapidOcrEngine

    one = RapidOcrEngine(RapidOcrOptions(rec_streams=1, rec_batch_num=2))
    two = RapidOcrEngine(RapidOcrOptions(rec_streams=2, rec_batch_num=2))
    image = load_document(DEMO / "docs" / "business_licence.jpg", IngestOptions()).pages[0]
    strips = [geo.crop_quad(image, q) for q in one.detect(image)]
    assert len(strips) > 4  # several batches, so the pool really splits them
    serial = one.recognize(strips)
    assert two.recognize(strips) == serial
    assert sum(bool(t) for t, _ in serial) > len(strips) // 2  # it did read text
    assert one.streams == 1 and two.streams == 2
