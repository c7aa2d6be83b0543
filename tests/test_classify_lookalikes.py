"""Classification beyond the title (issue 11): look-alikes merchants upload instead of a licence,
and a certificate whose title was not read but whose number and row labels were."""

from __future__ import annotations

import numpy as np
import pytest

from extractors.classify import UNCLASSIFIED, classify
from extractors.types import OcrLine
from tests.test_rules import SHOP, doc, licence, submission, verdict


def _lines(texts: list[str], title_height: int = 0) -> list[OcrLine]:
    out = []
    for i, text in enumerate(texts):
        h = title_height if (title_height and i == 0) else 30
        q = np.array([[50, 100 + 60 * i], [50 + 30 * len(text), 100 + 60 * i], [50 + 30 * len(text), 100 + 60 * i + h],
                      [50, 100 + 60 * i + h]], dtype=np.float32)
        out.append(OcrLine(text, 0.98, q, q))
    return out


@pytest.mark.parametrize(("texts", "reason"), [
    (["商标注册申请受理通知书", "申请号：58123456", "申请人：杭州鲜果时光食品有限公司", "商标：鲜果时光", "类别：29",
      "国家知识产权局商标局"], "受理通知书"),
    (["圳品评价证书", "证书编号：SZP2021-0012", "企业名称：深圳某某食品有限公司", "产品名称：鲜果时光冻干草莓",
      "有效期至：2027年05月01日"], "认证/评价证书"),
])
def test_look_alikes_are_unclassified_with_their_reason(texts, reason):
    cls = classify(_lines(texts, title_height=60))
    assert cls.doc_type == UNCLASSIFIED and reason in cls.look_alike


def test_device_registration_without_a_readable_title_is_recognised_by_number_and_rows():
    texts = ["注册人名称：广州洁康医疗器械有限公司", "注册人住所：广州市黄埔区科学大道1号", "注册证编号：国械注准20193140123",
             "产品名称：医用冷敷贴", "型号、规格：A型", "结构及组成：由背衬层和凝胶层组成", "适用范围：用于闭合性软组织"]
    cls = classify(_lines(texts))
    assert cls.doc_type == "medical_device_registration"


def test_a_number_alone_does_not_classify():
    assert classify(_lines(["国械注准20193140123", "一些无关的文字"])).doc_type == UNCLASSIFIED


def test_unclassified_look_alike_reason_reaches_the_check():
    from pipeline.document import DocumentWork  # noqa: F401 - the check reads work.classification

    work = doc("unclassified")
    work.classification = classify(_lines(["商标注册申请受理通知书", "申请号：58123456"], title_height=60))
    decision, codes, ev = verdict([licence(), work], submission(brand="鲜果时光"))
    assert decision != "approve" and "UNCLASSIFIED" in codes
    assert "受理通知书" in next(c.message for c in ev.checks if c.name == "document_recognised" and c.found == UNCLASSIFIED)


@pytest.mark.parametrize("code", ["110101199003071238"])
def test_a_code_that_only_passes_the_final_check_is_review_never_approve_or_reject(code):
    decision, codes, ev = verdict([licence(credit_code=code)], submission(credit_code=code))
    assert decision == "review" and "INVALID_NUMBER" in codes
    assert "GB 11714" in next(c.message for c in ev.checks if c.name == "credit_code_valid")


def test_an_id_number_printed_as_the_code_is_named_as_such():
    number = "11010519491231002X"  # validators/id_number's own example
    work = doc("food_business_licence", holder_name=SHOP, credit_code=number, licence_number="JY13301068424513",
               valid_until="2029-05-17")
    decision, codes, ev = verdict([licence(), work], submission(category="food"))
    assert decision == "review" and "INVALID_NUMBER" in codes
    assert "居民身份证号码" in next(c.message for c in ev.checks if c.name == "credit_code_valid" and c.found == number)


def test_short_brands_two_edits_apart_are_a_clear_mismatch():
    tm = doc("trademark_certificate", holder_name=SHOP, brand="云舒", licence_number="36378584",
             valid_until="2030-01-01")
    decision, codes, _ = verdict([licence(), tm], submission(brand="舒云阁"))
    assert decision == "reject" and "BRAND_MISMATCH" in codes

