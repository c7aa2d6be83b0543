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



BL_ROWS = ["统一社会信用代码 91430105183760159X", "名称 湖南某某旅游有限公司", "类型 有限责任公司(自然人投资或控股)",
           "法定代表人 蒋某", "注册资本 壹仟万元整", "成立日期 1989年05月04日", "营业期限 1989年05月04日至2039年05月03日",
           "住所 湖南省长沙市开福区中山路589号", "经营范围 国内旅游业务", "国家企业信用信息公示系统网址：",
           "国家市场监督管理总局监制"]


@pytest.mark.parametrize("title", [None, "执照", "营业"])
def test_a_licence_whose_title_washed_out_classifies_on_its_rows_and_footer(title):
    """Issue 20: a sharp scan whose gold-foil 营业执照 had washed out to white was not recognised, with
    every label, the emblem and the 国家企业信用信息公示系统 footer there."""
    texts = ([title] if title else []) + BL_ROWS
    cls = classify(_lines(texts, title_height=90 if title else 0))
    assert cls.doc_type == "business_licence" and cls.confidence >= 0.5


def test_rows_alone_without_the_footer_or_title_do_not_classify_as_a_licence():
    assert classify(_lines(BL_ROWS[:4])).doc_type == UNCLASSIFIED


def test_a_numbered_notice_on_a_licence_is_no_look_alike():
    """An old Shenzhen licence's 重要提示 panel says '3、信息查询：…': that is no registry screenshot."""
    texts = ["企业法人营业执照", "注册号 440301106941393", "名称 深圳市某某进出口有限公司", "住所 深圳市罗湖区深南东路1086号",
             "法定代表人 唐某", "成立日期 二〇一三年三月十一日", "3、信息查询：商事主体经营范围、出资情况、营业期限等有关事项",
             "登记机关"]
    assert classify(_lines(texts, title_height=90)).doc_type == "business_licence"


@pytest.mark.parametrize(("heading", "reason"), [
    ("网络文化经营许可证", "another permit"),
    ("危险化学品经营许可证", "another permit"),
    ("绿色食品证书", "product certificate"),
    ("AAA级信用等级证书", "credit-rating or honour"),
    ("BUSINESS LICENSE", "translation"),
])
def test_look_alike_titles_are_unclassified_with_the_reason(heading, reason):
    texts = [heading, "名称：杭州鲜果时光食品有限公司", "法定代表人：周某", "有效期至：2027年05月01日",
             "统一社会信用代码：91330106MA2H3B4C6X"]
    cls = classify(_lines(texts, title_height=90))
    assert cls.doc_type == UNCLASSIFIED and reason in cls.look_alike


def test_a_permit_named_inside_a_licence_scope_is_still_the_licence():
    texts = ["营业执照", "统一社会信用代码 91330106MA2H3B4C6X", "名称 杭州某某网络科技有限公司", "法定代表人 周某",
             "经营范围 网络文化经营（凭网络文化经营许可证经营）；危险化学品经营许可证所列项目", "成立日期 2019年07月22日",
             "登记机关"]
    assert classify(_lines(texts, title_height=90)).doc_type == "business_licence"
