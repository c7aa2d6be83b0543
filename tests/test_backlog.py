"""Backlog plain functions: content fingerprints, settings, reviewer markdown, operator CLI (no Prefect)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys

import pytest

from operations import backlog as bl
from operations.store import Store, current_owner
from pipeline.models import Check, DocumentResult, FieldValue, Quality, Reason, Verdict
from pipeline.settings import Settings
from tests.conftest import ROOT, SUBMISSIONS
from zizhi.cli import main


@pytest.fixture
def inbox(tmp_path):
    box = tmp_path / "inbox"
    for name in ("demo", "general-expired"):
        shutil.copytree(SUBMISSIONS / name, box / name)
    (box / "not-a-submission").mkdir()
    return box


def test_fingerprint_identifies_the_content(inbox):
    demo = inbox / "demo"
    fp = bl.fingerprint(demo)
    assert fp.submission_id == "SUB-FX-001" and len(fp.content_hash) == 64
    assert fp.doc_hashes["docs/business_licence.jpg"] == bl.file_sha256(demo / "docs" / "business_licence.jpg")
    shutil.copytree(demo, inbox / "demo-copy")
    assert bl.fingerprint(inbox / "demo-copy").content_hash == fp.content_hash  # folder name is not content
    with (demo / "docs" / "business_licence.jpg").open("ab") as f:
        f.write(b"\0")
    assert bl.fingerprint(demo).content_hash != fp.content_hash  # a re-upload is new content
    sub = json.loads((inbox / "demo-copy" / "submission.json").read_text())
    sub["product"]["title"] += " 新款"
    (inbox / "demo-copy" / "submission.json").write_text(json.dumps(sub, ensure_ascii=False))
    assert bl.fingerprint(inbox / "demo-copy").content_hash != fp.content_hash


def test_fingerprint_of_broken_submissions_never_raises(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "submission.json").write_text("{not json")
    fp = bl.fingerprint(bad)
    assert fp.submission_id == "folder:bad" and fp.doc_hashes == {}
    assert fp.permanent and "not valid JSON" in fp.error
    (tmp_path / "secret.jpg").write_bytes(b"outside")
    sneaky = tmp_path / "sneaky"
    sneaky.mkdir()
    (sneaky / "submission.json").write_text(json.dumps(
        {"id": "S", "documents": [{"file": "../secret.jpg"}, {"file": "docs/missing.jpg"}, {"file": 3}]}))
    fp = bl.fingerprint(sneaky)
    assert list(fp.doc_hashes) == ["../secret.jpg", "docs/missing.jpg"]
    assert fp.doc_hashes["../secret.jpg"].startswith("!UnsafePathError:")
    assert fp.doc_hashes["docs/missing.jpg"].startswith("!DocumentError:")


def test_scan_inbox_lists_submission_folders_in_order(inbox):
    found = bl.scan_inbox(inbox)
    assert [f.folder.name for f in found] == ["demo", "general-expired"]
    assert found[0].item.folder == str(inbox / "demo")
    with pytest.raises(NotADirectoryError):
        bl.scan_inbox(inbox / "nope")


def test_a_submission_json_that_is_a_folder_is_reported_not_skipped(inbox):
    odd = inbox / "odd"
    (odd / "submission.json").mkdir(parents=True)
    (inbox / "plain-folder").mkdir()  # no submission.json at all: not a submission, skipped
    found = {f.folder.name: f for f in bl.scan_inbox(inbox)}
    assert "plain-folder" not in found
    assert "submission.json is not a regular file" in found["odd"].error


def test_a_blank_submission_id_is_refused():
    from pydantic import ValidationError

    from pipeline.models import Submission

    body = {"shop": {"name": "s", "company": "c"}, "product": {"category": "general"}, "documents": []}
    with pytest.raises(ValidationError, match="blank"):
        Submission.model_validate({"id": " \u3000 ", **body})
    assert Submission.model_validate({"id": "S-1", **body}).id == "S-1"


def test_batches():
    assert [len(b) for b in bl.batches(list(range(7)), 3)] == [3, 3, 1]
    assert list(bl.batches([], 3)) == []


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("ZIZHI_STORE", "postgresql+psycopg://u@db/zizhi")
    monkeypatch.setenv("ZIZHI_BACKLOG_BATCH_SIZE", "25")
    monkeypatch.setenv("ZIZHI_BACKLOG_CONCURRENCY", "2")
    monkeypatch.setenv("ZIZHI_BACKLOG_CRON", "0 * * * *")
    s = bl.backlog_settings()
    assert (s.store, s.backlog_batch_size, s.backlog_concurrency, s.backlog_cron) == (
        "postgresql+psycopg://u@db/zizhi", 25, 2, "0 * * * *")
    Settings()  # the pipeline's own settings ignore ours


class FakeEngine:
    name, version, model_ids = "fake", "1.0", ("det-a", "rec-b")


def test_reading_key_follows_engine_and_reading_settings():
    base = bl.reading_key(FakeEngine(), Settings())
    assert base == bl.reading_key(FakeEngine(), Settings())
    other = FakeEngine()
    other.model_ids = ("det-a", "rec-c")
    assert bl.reading_key(other, Settings()) != base
    assert bl.reading_key(FakeEngine(), Settings(ocr={"det_limit_side_len": 1280})) != base
    v = bl.versions(FakeEngine(), Settings(), __import__("rules").load_rules())
    assert v["engine"] == "fake" and v["model_ids"] == ["det-a", "rec-b"] and v["reading_key"] == base


def test_artifact_keys_are_valid_and_distinct():
    assert bl.artifact_key("verdict", "SUB-FX-001") == "verdict-sub-fx-001"
    a, b = bl.artifact_key("verdict", "店铺/01"), bl.artifact_key("verdict", "店铺_01")
    assert a != b
    for key in (a, b, bl.artifact_key("verdict", "x" * 300)):
        assert len(key) <= 100 and all(c.islower() or c.isdigit() or c == "-" for c in key)


def sample_verdict() -> Verdict:
    q = Quality(ok=True, sharpness=400.0, width=2000, height=1400, skew_deg=0.5, flags=["photocopy: grey"])
    doc = DocumentResult(file="docs/bl.jpg", doc_type="business_licence", doc_type_confidence=0.98, pages=1,
                         quality=q, fields={"holder_name": FieldValue(value="甲|乙公司", confidence=0.97, page=1)})
    return Verdict(submission_id="SUB-1", decision="review", checked_on=dt.date(2026, 11, 27),
                   reasons=[Reason(code="AUTHENTICITY_FLAG", document="docs/bl.jpg", message="grey copy")],
                   documents=[doc], checks=[Check(name="holder_matches_shop", status="pass", expected="甲|乙公司",
                                                  found="甲|乙公司", score=100.0)])


def test_verdict_markdown_shows_decision_reasons_fields_and_checks():
    md = bl.verdict_markdown(sample_verdict(), folder="/inbox/a", content_hash="ab" * 32)
    assert "SUB-1: **REVIEW**" in md and "content `abababababab`" in md
    assert "| AUTHENTICITY_FLAG | docs/bl.jpg | grey copy |" in md
    assert "| holder_name | 甲\\|乙公司 | 0.97 | 1 |" in md  # pipes escaped
    assert "| holder_matches_shop | pass |" in md and "photocopy: grey" in md


def test_summary_rows():
    out = [bl.Outcome("A", "h", "f", "approve"), bl.Outcome("B", "h", "f", "failed", error="x"),
           bl.Outcome("C", "h", "f", "approve")]
    rows = bl.summary_rows(out, skipped=5)
    assert rows[0] == {"status": "approve", "count": 2, "share": "67%", "examples": "A, C"}
    assert rows[1]["status"] == "failed" and rows[-1]["count"] == 5
    assert out[1].row()["reasons"] == "x"


def test_claim_keeper_heartbeats(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'v.db'}")
    from operations.store import Item, claims, utcnow

    store.claim([Item("A", "h")], owner=current_owner(), lease_seconds=60, max_attempts=3)
    with store.engine.begin() as conn:
        conn.execute(claims.update().values(heartbeat_at=utcnow() - dt.timedelta(hours=1)))
    with bl.ClaimKeeper(store, current_owner(), interval=0.05):
        import time

        time.sleep(0.3)
    (c,) = store.claims().values()
    assert c.heartbeat_at > utcnow() - dt.timedelta(minutes=1)


# --- operator CLI, without Prefect -----------------------------------------------------------

def test_verify_never_imports_prefect():
    code = ("import sys; from zizhi.cli import build_parser; build_parser(); "
            "sys.exit(1 if [m for m in sys.modules if m.split('.')[0] in ('prefect', 'flows')] else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT).returncode == 0


def test_backlog_run_refuses_a_missing_inbox(tmp_path, capsys):
    assert main(["backlog", "run", "--inbox", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_backlog_run_json_is_utf8_when_a_folder_name_is_not(tmp_path, capsysbinary, monkeypatch):
    # A folder named b"bad\xffname" reaches the run's summary as "bad\udcffname" (surrogateescape);
    # printed as is, stdout held a raw 0xff byte (or raised under a strict UTF-8 stdout).
    import flows
    from operations import cli

    folder = str(tmp_path / "bad\udcffname")
    summary = {"inbox": str(tmp_path), "store": "Store(…)", "found": 1, "skipped": 0, "processed": 1,
               "counts": {"failed": 1}, "batches": 1,
               "failed": [{"submission_id": "folder:bad\\udcffname", "folder": folder, "error": "名称不是 UTF-8"}]}
    monkeypatch.setattr(cli, "use_prefect_server", lambda stack, **kw: "http://prefect.invalid/api")
    monkeypatch.setattr(flows, "process_backlog", lambda *a, **kw: None)
    monkeypatch.setattr(flows, "summary_of", lambda state: dict(summary))
    url = f"sqlite:///{tmp_path / 'v.db'}"
    assert main(["backlog", "run", "--inbox", str(tmp_path), "--store", url, "--json"]) == 1
    out = capsysbinary.readouterr().out.decode("utf-8")  # strict: every byte UTF-8
    (failed,) = json.loads(out)["failed"]
    assert failed["folder"] == folder and failed["error"] == "名称不是 UTF-8"


@pytest.mark.parametrize("args", [["--batch-size", "-3"], ["--batch-size", "1001"], ["--workers", "-2"],
                                  ["--workers", "0"], ["--workers", "100000"], ["--workers", "two"]])
def test_backlog_run_refuses_counts_outside_the_settings_bounds(tmp_path, capsys, args):
    # --batch-size -3 verified nothing and exited 0; --workers -2 died in ThreadPoolExecutor with a traceback
    with pytest.raises(SystemExit) as e:
        main(["backlog", "run", "--inbox", str(tmp_path), *args])
    assert e.value.code == 2 and "not a whole number from 1 to" in capsys.readouterr().err


def test_verdicts_lists_the_store(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    store = Store(url)
    from operations.store import Item

    a, b = Item("SUB-A", "a" * 64, "/inbox/a"), Item("SUB-B", "b" * 64, "/inbox/b")
    store.claim([a, b], owner=current_owner(), lease_seconds=60, max_attempts=3)
    v = sample_verdict().model_copy(update={"submission_id": "SUB-A"})
    store.record_verdict(a.key, verdict_json=v.model_dump_json(), decision=v.decision, checked_on=v.checked_on,
                         versions={}, owner=current_owner(), folder=a.folder)
    store.record_failure(b.key, "document not found: docs/x.jpg", owner=current_owner(), permanent=True)
    assert main(["verdicts", "--store", url]) == 0
    out, err = capsys.readouterr()
    header, line = out.splitlines()
    assert header.split()[:5] == ["stored", "(UTC)", "submission", "decision", "reasons"]
    assert "SUB-A" in line and "review" in line and "AUTHENTICITY_FLAG" in line and "SUB-B" not in out
    assert err == "1 failed submission(s) not listed: `zizhi verdicts --failures`\n"
    assert main(["verdicts", "--store", url, "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["verdict"]["reasons"][0]["code"] == "AUTHENTICITY_FLAG"
    assert main(["verdicts", "--store", url, "--failures"]) == 0
    header, line = capsys.readouterr().out.splitlines()
    assert header.startswith("failed (UTC)")
    assert "SUB-B" in line and "document not found" in line and "permanent" in line
    assert main(["verdicts", "--store", url, "--submission", "SUB-X"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "no verdicts for submission SUB-X\nzizhi: unknown submission id: SUB-X\n"
    # a submission that only failed: pointed to its failure, not called unknown
    assert main(["verdicts", "--store", url, "--submission", "SUB-B"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "--failures" in err and "unknown" not in err


def test_reason_codes_are_listed_once_each_in_the_verdicts_order(tmp_path, capsys):
    from operations.backlog import reason_codes
    from operations.store import Item

    v = sample_verdict()
    reasons = [*v.reasons, v.reasons[0].model_copy(update={"code": "NAME_MISMATCH"}), v.reasons[0]]
    v = v.model_copy(update={"submission_id": "SUB-R", "reasons": reasons})
    first = v.reasons[0].code
    assert reason_codes(v) == [first, "NAME_MISMATCH"] if first != "NAME_MISMATCH" else [first]
    url = f"sqlite:///{tmp_path / 'v.db'}"
    store, item = Store(url), Item("SUB-R", "r" * 64, "/inbox/r")
    store.record_verdict(item.key, verdict_json=v.model_dump_json(), decision=v.decision, checked_on=v.checked_on,
                         versions={}, owner=current_owner(), folder=item.folder)
    assert main(["verdicts", "--store", url]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert ",".join(reason_codes(v)) in line.split()


def test_every_command_says_what_it_does_and_its_defaults():
    import argparse

    from zizhi.cli import build_parser

    def commands(parser, path):
        yield path, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    yield from commands(child, f"{path} {name}")

    missing = []
    for path, parser in commands(build_parser(), "zizhi"):
        if not parser.description:
            missing.append(f"{path}: no description")
        for a in parser._actions:
            if isinstance(a, argparse._HelpAction | argparse._SubParsersAction) or a.nargs == 0 or a.required:
                continue  # flags, required arguments: nothing to default
            if "default" not in (a.help or ""):
                missing.append(f"{path} {'/'.join(a.option_strings) or a.dest}: help names no default")
    assert not missing, "\n".join(missing)


def test_flows_serve_needs_an_inbox(capsys, monkeypatch):
    monkeypatch.delenv("ZIZHI_BACKLOG_INBOX", raising=False)
    assert main(["flows", "serve"]) == 2
    assert "--inbox" in capsys.readouterr().err


# --- issue 15: one progress line ------------------------------------------------------------------

def test_progress_line_counts_rate_and_eta():
    import io

    from operations.progress import Progress, ProgressPrinter
    from operations.progress import log as progress_log

    p = Progress(total=4, started=100.0)
    assert p.line(now=100.0) == "0/4 done · approve 0 · reject 0 · review 0 · failed 0 · 0.0/min · ETA -"
    p.done, p.counts["approve"], p.counts["failed"] = 2, 1, 1
    assert p.line(now=160.0) == "2/4 done · approve 1 · reject 0 · review 0 · failed 1 · 2.0/min · ETA 1m00s"

    log = io.StringIO()  # not a terminal: plain lines, at most one per interval, and always the last
    printer = ProgressPrinter(log, interval=3600)
    progress_log.addHandler(printer)
    try:
        run = Progress(total=3)
        for status in ("review", "reject", "failed"):
            run.add(status)
    finally:
        progress_log.removeHandler(printer)
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("1/3 done") and lines[1].startswith("3/3 done")
    assert lines[1].endswith("finished") and "failed 1" in lines[1]
