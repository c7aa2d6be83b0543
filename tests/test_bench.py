"""The benchmarks run end to end on a small input and print the contract's last line."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from benchmarks.bench_engines import TABLE_END, TABLE_START, markdown_table, write_docs
from benchmarks.common import evenly, find_documents, find_submissions, percentile
from tests.conftest import ROOT, SUBMISSIONS

LAST_LINE = re.compile(r"^bench pages (\d+) p50_s ([\d.]+) p95_s ([\d.]+) bare_ocr_p50_s ([\d.]+) "
                       r"overhead ([\d.]+) rss_mb (\d+) ort_p50_s ([\d.]+)( backlog_reuse_x ([\d.]+))?$")


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.5) == 11.0 and percentile(values, 0.95) == 19.0 and percentile([3.0], 0.95) == 3.0


def test_evenly_spreads_a_fixed_sample():
    items = list(range(10))
    assert evenly(items, 3) == [0, 4, 9] and evenly(items, 0) == items and evenly(items, 20) == items
    assert evenly(items, 1) == [0]


def test_fixture_pages_include_pdfs():
    docs = find_documents()
    assert any(d.suffix == ".pdf" for d in docs) and len(find_submissions()) >= 20


@pytest.mark.ocr
def test_bench_pages_prints_the_last_line(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_pages", str(SUBMISSIONS / "demo"),
                           "--no-throughput", "--backlog-shops", "0", "--quiet-wait", "0", "--json", str(out)], check=False, capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = LAST_LINE.match(proc.stdout.strip().splitlines()[-1])
    assert m, proc.stdout
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert int(m.group(1)) == figures["pages"] == 1
    assert float(m.group(5)) == figures["overhead"] > 0 and figures["import_and_load_s"] > 0
    assert float(m.group(7)) == figures["ort_p50_s"] > 0 and figures["per_page"][0]["ort_s"] > 0


@pytest.mark.ocr
def test_throughput_pool_verifies_submissions():
    from benchmarks.throughput import run

    subs = [SUBMISSIONS / "demo" / "submission.json", SUBMISSIONS / "general-expired" / "submission.json"]
    result = run(2, 1, subs)
    assert result["submissions"] == 2 and result["pages"] == 2
    assert result["decisions"] == {"demo": "approve", "general-expired": "reject"}
    assert 0 < result["worker_peak_rss_mb"] < 1500


def test_engine_table_goes_between_the_markers(tmp_path):
    doc = tmp_path / "engines.md"
    doc.write_text(f"# Engines\n\nbefore\n{TABLE_START}\nold\n{TABLE_END}\nafter\n", encoding="utf-8")
    results = [{"key": "rapidocr", "label": "RapidOCR", "field_accuracy": 0.91, "fields_correct": 91,
                "fields_total": 100, "doc_type_accuracy": 1.0, "decision_accuracy": 1.0, "s_per_page": 2.0,
                "p50_page_s": 1.9, "import_and_load_s": 1.1, "peak_rss_mb": 600, "false_approves": []},
               {"key": "paddleocr", "label": "PaddleOCR", "skipped": "paddleocr not installed"}]
    write_docs(doc, markdown_table(results), "measured here")
    text = doc.read_text(encoding="utf-8")
    assert "old" not in text and "before" in text and "after" in text
    assert "| RapidOCR | 91.0% (91/100) | 100% | 100% | 0 | 2.00 (1.90) | 1.1 | 600 |" in text
    assert "| PaddleOCR | paddleocr not installed |" in text


def test_the_realistic_backlog_is_shops_reusing_their_documents(tmp_path):
    from benchmarks.backlog_reuse import build_inbox, shops

    chosen = shops(3)
    assert len(chosen) == 3 and all(not json.loads(p.read_text(encoding="utf-8"))["product"].get("images") for p in chosen)
    inbox = build_inbox(tmp_path, chosen, 4)
    assert len(inbox) == 12 and inbox != sorted(inbox)  # arrival order shuffled
    ids = [json.loads(p.read_text(encoding="utf-8"))["id"] for p in inbox]
    assert len(set(ids)) == 12
    for p in inbox:  # every listing carries byte-identical copies of its shop's documents
        shop = chosen[int(p.parent.name[4:6])]
        for doc in json.loads(shop.read_text(encoding="utf-8"))["documents"]:
            assert (p.parent / doc["file"]).read_bytes() == (shop.parent / doc["file"]).read_bytes()


@pytest.mark.ocr
def test_backlog_reuse_reads_each_shops_documents_once():
    from benchmarks.backlog_reuse import measure
    from pipeline.settings import get_settings

    figures = measure(get_settings().ocr.model_dump(mode="json"), shops_n=1, listings=3, sample=1)
    w, wo = figures["with_shared_reading"], figures["without_shared_reading"]
    assert (w["listings"], wo["listings"]) == (3, 1) and figures["backlog_reuse_x"] > 0
    assert not figures["decisions_differing"] and w["worker_peak_rss_mb"] > 0
    assert w["shared_hits"] >= 1  # at least one listing found its shop's documents in the store
