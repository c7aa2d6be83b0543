"""Merchant messages (SPEC §2 `merchant_message`): Chinese, specific, actionable, data-driven, and
never showing scores, check names or anyone else's data."""

from __future__ import annotations

import re

import pytest
import yaml
from pydantic import ValidationError

from pipeline.evaluation import Evaluation, low_confidence
from pipeline.merchant import chinese_date, merchant_message
from pipeline.models import REASON_CODES, Check, FieldValue
from rules import PACKAGED, MerchantMessages, load_rules

SEED_WORDS = ("资质文件不全", "资质文件不清晰", "资质文件不符", "信息填写错误")
CJK = re.compile(r"[\u4e00-\u9fff]")


def packaged() -> MerchantMessages:
    return load_rules().merchant_messages


def test_every_reason_code_has_a_generic_message_in_chinese():
    messages = packaged()
    assert set(REASON_CODES) <= set(messages.codes), set(REASON_CODES) - set(messages.codes)
    for code in REASON_CODES:
        generic = messages.codes[code].generic
        assert CJK.search(generic) and generic.endswith("。"), (code, generic)
        assert "{" not in generic


def test_the_document_the_field_and_the_date_as_printed_are_named():
    check = Check(name="valid_on_check_date", status="fail", document="docs/营业执照.jpg", expected=">= 2026-11-27",
                  found="2026-10-31", score=97.0, message="营业执照 expired on 2026-10-31")
    text = merchant_message("EXPIRED", check, doc_type="business_licence")
    assert text == "资质文件已过期：营业执照（文件“docs/营业执照.jpg”）已于2026年10月31日到期，请上传在有效期内的营业执照后重新提交。"


def test_a_holder_mismatch_quotes_the_upload_and_the_declared_company_and_says_what_to_do():
    check = Check(name="holder_matches_shop", status="review", document="docs/food.jpg", expected="杭州鲜果时光食品有限公司",
                  found="杭州鲜果时光食品有线公司", score=96.3)
    text = merchant_message("HOLDER_MISMATCH", check, doc_type="food_business_licence")
    assert "食品经营许可证" in text and "docs/food.jpg" in text
    assert "“杭州鲜果时光食品有线公司”" in text and "“杭州鲜果时光食品有限公司”" in text
    assert text.startswith("资质文件不符") and "请上传" in text
    assert "96" not in text and "holder_matches_shop" not in text


def test_a_missing_placeholder_falls_back_to_the_codes_generic_message():
    # No date read: the EXPIRED templates all need {found_date}; the generic sentence is used.
    check = Check(name="valid_on_check_date", status="review", document="docs/bl.jpg", found=None)
    assert merchant_message("EXPIRED", check, doc_type="business_licence") == packaged().codes["EXPIRED"].generic
    # A code nobody wrote templates for yet (a new check's) gets the default sentence.
    assert merchant_message("SOMETHING_NEW", check) == packaged().default


def test_a_new_check_with_an_existing_code_gets_a_specific_message_at_once():
    check = Check(name="a_check_added_later", status="review", document="docs/tm.jpg", expected="鲜果时光",
                  found="鲜果时代")
    text = merchant_message("BRAND_MISMATCH", check, doc_type="trademark_certificate")
    assert "商标注册证" in text and "“鲜果时代”" in text and "“鲜果时光”" in text


def test_missing_documents_are_named_in_chinese():
    check = Check(name="required_document_present", status="fail",
                  expected="food_business_licence or food_production_licence")
    text = merchant_message("MISSING_DOCUMENT", check)
    assert "食品经营许可证或食品生产许可证" in text and text.startswith("资质文件不全")
    assert "food_" not in text


def test_evaluation_fills_the_message_with_the_documents_type_and_the_field():
    ev = Evaluation(doc_types={"docs/bl.jpg": "business_licence"})
    low_confidence(ev, "holder_matches_shop", "docs/bl.jpg", "holder_name",
                   FieldValue(value="杭州某某", confidence=0.41, page=1), "杭州鲜果时光食品有限公司")
    ev.add(Check(name="legible", status="pass", document="docs/bl.jpg"), "UNREADABLE")  # a pass gives no reason
    [reason] = ev.reasons
    assert reason.code == "LOW_CONFIDENCE"
    assert reason.merchant_message.startswith("资质文件不清晰：营业执照（文件“docs/bl.jpg”）上的名称无法清晰辨认")
    assert "0.41" not in reason.merchant_message and "41" not in reason.merchant_message


@pytest.mark.parametrize("code", REASON_CODES)
def test_no_message_shows_a_score_a_check_name_or_machine_values(code):
    check = Check(name="credit_code_matches_declared", status="fail", document="docs/x.jpg",
                  expected=">= 2026-11-27", found="long_term", score=87.5, message="internal: rule text")
    text = merchant_message(code, check, doc_type="business_licence")
    assert CJK.search(text)
    # (A closed category quotes the operator's closed_reason, written for merchants: the check's message.)
    leaks = ("87.5", "credit_code_matches_declared", "long_term", ">=", "business_licence")
    for leak in leaks + (() if code == "CATEGORY_NOT_ALLOWED" else ("internal",)):
        assert leak not in text, (code, text)
    assert any(word in text for word in SEED_WORDS) or code in ("EXPIRED", "CATEGORY_NOT_ALLOWED",
                                                                 "PROHIBITED_CONTENT"), text


def test_templates_are_validated_when_loaded(tmp_path):
    data = yaml.safe_load((PACKAGED / "merchant_messages.yaml").read_text(encoding="utf-8"))
    bad = dict(data, codes=dict(data["codes"], EXPIRED={"generic": "过期了", "templates": [{"text": "{score}分"}]}))
    with pytest.raises(ValidationError, match="unknown placeholders"):
        MerchantMessages.model_validate(bad)
    bad = dict(data, codes=dict(data["codes"], EXPIRED={"generic": "{file}过期了"}))
    with pytest.raises(ValidationError, match="may not have placeholders"):
        MerchantMessages.model_validate(bad)
    with pytest.raises(ValidationError, match="Extra inputs"):
        MerchantMessages.model_validate(dict(data, tone="friendly"))


def test_an_operator_rewords_a_message_without_a_release(tmp_path):
    data = yaml.safe_load((PACKAGED / "merchant_messages.yaml").read_text(encoding="utf-8"))
    data["codes"]["EXPIRED"]["templates"] = [{"text": "{doc_name}已过期（{found_date}），请更新。"}]
    (tmp_path / "merchant_messages.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ev = Evaluation(doc_types={"a.jpg": "food_business_licence"}, messages=load_rules(tmp_path).merchant_messages)
    ev.add(Check(name="valid_on_check_date", status="fail", document="a.jpg", found="2025-01-02"), "EXPIRED")
    assert ev.reasons[0].merchant_message == "食品经营许可证已过期（2025年1月2日），请更新。"


def test_chinese_dates():
    assert chinese_date("2026-01-05") == "2026年1月5日"
    assert chinese_date("long_term") is None and chinese_date(None) is None
