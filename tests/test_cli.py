"""`zizhi verify`: SPEC's exit codes, --json, and every bad input → one line or a non-approve verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import cv2
import pytest
from stdnum.cn import uscc

from tests.conftest import ROOT, text_page, write_submission
from zizhi.cli import main

COMPANY = "杭州鲜果时光食品有限公司"
# structurally valid (GB 11714 organisation code included), unlike SPEC's made-up example
CODE = "91330106MA2H3B4C6" + uscc.calc_check_digit("91330106MA2H3B4C6")


def licence_lines(company=COMPANY, code=CODE, until="长期"):
    return [("营业执照", 520, 40), ("统一社会信用代码", 80, 160), (code, 80, 215), ("名称", 80, 330),
            (company, 260, 330), ("类型有限责任公司", 80, 420), ("法定代表人张三丰", 80, 510),
            ("成立日期2018年03月15日", 80, 600), (f"营业期限2018年03月15日至{until}", 80, 690),
            ("住所浙江省杭州市西湖区文三路100号", 80, 780), ("登记机关杭州市西湖区市场监督管理局", 700, 900)]


@pytest.fixture
def licence_submission(tmp_path):
    image, _ = text_page(licence_lines(), size=(1500, 1000), seal=True)
    (tmp_path / "docs").mkdir()
    cv2.imwrite(str(tmp_path / "docs" / "bl.png"), image)
    return write_submission(tmp_path, [{"file": "docs/bl.png"}], credit_code=CODE)


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("setup", "message"),
    [("missing", "not found"), ("bad_json", "not valid JSON"), ("category", "unknown category"),
     ("missing_doc", "document not found"), ("traversal", "may not contain '..'"),
     ("absolute", "must be relative"), ("not_contract", "does not match the contract")],
)
def test_unusable_submissions_exit_2_with_one_line(tmp_path, capsys, setup, message):
    path = tmp_path / "submission.json"
    if setup == "bad_json":
        path.write_text("{oops", encoding="utf-8")
    elif setup == "category":
        write_submission(tmp_path, [], category="fireworks")
    elif setup == "missing_doc":
        write_submission(tmp_path, [{"file": "docs/none.jpg"}])
    elif setup == "traversal":
        write_submission(tmp_path, [{"file": "../etc/passwd"}])
    elif setup == "absolute":
        write_submission(tmp_path, [{"file": "/etc/passwd"}])
    elif setup == "not_contract":
        path.write_text(json.dumps({"id": "x", "shop": {}, "product": {}, "documents": []}), encoding="utf-8")
    start = time.monotonic()
    code, out, err = run(["verify", str(path), "--json"], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    assert time.monotonic() - start < 60


def test_bad_today_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["verify", str(tmp_path / "x.json"), "--today", "27/11/2026"])
    assert e.value.code == 2


@pytest.mark.ocr
@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\xff\xd8\xff\xe0garbage", b"%PDF-1.7 broken"])
def test_corrupt_document_gives_a_verdict_not_a_traceback(tmp_path, capsys, content):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "bl.jpg").write_bytes(content)
    path = write_submission(tmp_path, [{"file": "docs/bl.jpg"}])
    start = time.monotonic()
    code, out, err = run(["verify", str(path), "--json", "--today", "2026-11-27"], capsys)
    assert time.monotonic() - start < 60
    assert code == 0, err
    verdict = json.loads(out)
    assert verdict["decision"] in ("reject", "review")
    assert "UNREADABLE" in {r["code"] for r in verdict["reasons"]}
    assert verdict["documents"][0]["errors"][0]["stage"] == "ingest"


@pytest.mark.ocr
def test_empty_document_list_is_missing_document(tmp_path, capsys):
    path = write_submission(tmp_path, [])
    code, out, _ = run(["verify", str(path), "--json"], capsys)
    verdict = json.loads(out)
    assert code == 0 and verdict["decision"] == "reject"
    assert [r["code"] for r in verdict["reasons"]] == ["MISSING_DOCUMENT"]


@pytest.mark.ocr
def test_clean_licence_approves_and_human_output_lists_everything(licence_submission, capsys):
    code, out, _ = run(["verify", str(licence_submission), "--today", "2026-11-27"], capsys)
    assert code == 0
    assert out.startswith("SUB-T: APPROVE")
    for word in ("holder_name", COMPANY, CODE, "checks:", "holder_matches_shop", "credit_code_matches_declared"):
        assert word in out


@pytest.mark.ocr
def test_json_is_the_verdict_and_nothing_else(licence_submission, capsys):
    code, out, _ = run(["verify", str(licence_submission), "--json", "--today", "2026-11-27"], capsys)
    verdict = json.loads(out)
    assert code == 0
    assert verdict["decision"] == "approve" and verdict["reasons"] == []
    assert verdict["checked_on"] == "2026-11-27"
    fields = verdict["documents"][0]["fields"]
    assert fields["holder_name"]["value"] == COMPANY
    assert fields["credit_code"]["value"] == CODE
    assert fields["valid_until"]["value"] == "long_term"
    assert fields["established"]["value"] == "2018-03-15"
    box = fields["credit_code"]["box"]
    assert len(box) == 4 and 60 <= box[0][0] <= 110 and 200 <= box[0][1] <= 235  # where it was drawn


@pytest.mark.ocr
def test_one_character_off_company_is_never_approved(tmp_path, capsys):
    image, _ = text_page(licence_lines(company="杭州鲜果时代食品有限公司"), size=(1500, 1000), seal=True)
    (tmp_path / "docs").mkdir()
    cv2.imwrite(str(tmp_path / "docs" / "bl.png"), image)
    path = write_submission(tmp_path, [{"file": "docs/bl.png"}], credit_code=CODE)
    _, out, _ = run(["verify", str(path), "--json"], capsys)
    verdict = json.loads(out)
    assert verdict["decision"] in ("reject", "review")
    assert "HOLDER_MISMATCH" in {r["code"] for r in verdict["reasons"]}


@pytest.mark.ocr
def test_expired_licence_is_rejected(tmp_path, capsys):
    image, _ = text_page(licence_lines(until="2025年03月14日"), size=(1500, 1000), seal=True)
    (tmp_path / "docs").mkdir()
    cv2.imwrite(str(tmp_path / "docs" / "bl.png"), image)
    path = write_submission(tmp_path, [{"file": "docs/bl.png"}], credit_code=CODE)
    _, out, _ = run(["verify", str(path), "--json", "--today", "2026-11-27"], capsys)
    verdict = json.loads(out)
    assert verdict["decision"] == "reject"
    assert [r["code"] for r in verdict["reasons"]] == ["EXPIRED"]


def test_a_reader_that_stops_early_is_no_traceback(tmp_path, monkeypatch):
    # `zizhi verify S.json | head -1`: the rest of the verdict goes to a closed pipe
    from pipeline import runner
    from tests.test_backlog import sample_verdict

    monkeypatch.setattr(runner, "verify", lambda *a, **kw: sample_verdict())
    read, write = os.pipe()
    os.close(read)
    monkeypatch.setattr(sys, "stdout", os.fdopen(write, "w"))
    try:
        assert main(["verify", str(tmp_path / "submission.json")]) == 0
    finally:
        sys.stdout.close()


def test_console_script_runs_as_a_process(tmp_path):
    """The installed `zizhi` entry point, as tools outside the project call it."""
    exe = os.path.join(os.path.dirname(sys.executable), "zizhi")
    result = subprocess.run([exe, "verify", str(tmp_path / "none.json")], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 2 and "not found" in result.stderr and result.stdout == ""


@pytest.mark.ocr
def test_grey_copy_of_a_sealed_licence_goes_to_review(tmp_path, capsys):
    image, _ = text_page(licence_lines(), size=(1500, 1000), seal=True)
    (tmp_path / "docs").mkdir()
    cv2.imwrite(str(tmp_path / "docs" / "bl.png"), cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    path = write_submission(tmp_path, [{"file": "docs/bl.png"}], credit_code=CODE)
    _, out, _ = run(["verify", str(path), "--json"], capsys)
    verdict = json.loads(out)
    assert verdict["decision"] == "review"
    assert [r["code"] for r in verdict["reasons"]] == ["AUTHENTICITY_FLAG"]
    assert verdict["documents"][0]["quality"]["flags"][0].startswith("photocopy")


@pytest.mark.ocr
def test_bundled_demo_approves_through_the_installed_command():
    """What `make demo` runs, as an outside tool would call it."""
    exe = os.path.join(os.path.dirname(sys.executable), "zizhi")
    result = subprocess.run([exe, "verify", "fixtures/submissions/demo/submission.json", "--json", "--today",
                             "2026-11-27"], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["decision"] == "approve" and verdict["submission_id"] == "SUB-FX-001"
    assert verdict["documents"][0]["fields"]["credit_code"]["value"] == "91510107MA59G2WX04"
