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
                       r"overhead ([\d.]+) rss_mb (\d+) ort_p50_s ([\d.]+)$")


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
                           "--no-throughput", "--quiet-wait", "0", "--json", str(out)], check=False, capture_output=True, text=True,
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
