"""Absence needs evidence (issue 11): for every document type and every field a rule rests on, a
page where the field's label is printed but its value is blank, sealed over or unreadable never
approves; and a field is "not printed" only when a known layout omits it on a legible page.

Pages are made of OCR lines placed like a printed form (label column, value column), then go
through the same interpretation (classify → extract) and rules as an uploaded page would.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from devtools.replay_real import category_for, document_decision
from pipeline import geometry as geo
from pipeline.checks import evaluate
from pipeline.document import DocumentReading, interpret_document
from pipeline.models import DocumentRef, Product, Shop, Submission
from pipeline.preprocess import PageLine, PageReading
from pipeline.settings import get_settings
from rules import load_rules

TODAY = dt.date(2026, 11, 27)
RULES = load_rules()
SETTINGS = get_settings()
SHOP = "杭州鲜果时光食品有限公司"
CODE = "91330106MA2H3B4C6P"  # structurally valid (GB 32100 + GB 11714)
BRAND = "鲜果时光"

# type -> (title, [(label, value, rule field or None)], product title)
PAGES: dict[str, tuple[str, list[tuple[str, str, str | None]], str]] = {
    "business_licence": ("营业执照", [
        ("统一社会信用代码", CODE, "credit_code"), ("名称", SHOP, "holder_name"), ("类型", "有限责任公司", None),
        ("法定代表人", "沈思雨", None), ("注册资本", "壹佰万元整", None), ("成立日期", "2015年01月01日", None),
        ("营业期限", "2015年01月01日至2035年12月31日", "valid_until"), ("住所", "杭州市西湖区文三路90号", None),
    ], ""),
    "food_business_licence": ("食品经营许可证", [
        ("经营者名称", SHOP, "holder_name"), ("社会信用代码", CODE, "credit_code"), ("法定代表人", "沈思雨", None),
        ("许可证编号", "JY13301068424513", "licence_number"), ("有效期至", "2029年05月17日", "valid_until"),
    ], ""),
    "food_production_licence": ("食品生产许可证", [
        ("生产者名称", SHOP, "holder_name"), ("社会信用代码", CODE, "credit_code"),
        ("许可证编号", "SC10451011203863", "licence_number"), ("有效期至", "2028年09月01日", "valid_until"),
    ], ""),
    "cosmetics_production_licence": ("化妆品生产许可证", [
        ("企业名称", SHOP, "holder_name"), ("统一社会信用代码", CODE, "credit_code"),
        ("许可证编号", "粤妆20160088", "licence_number"), ("有效期至", "2027年12月15日", "valid_until"),
    ], ""),
    "medical_device_business_licence": ("医疗器械经营许可证", [
        ("企业名称", SHOP, "holder_name"), ("统一社会信用代码", CODE, "credit_code"),
        ("许可证编号", "浙杭食药监械经营许20150012号", "licence_number"), ("有效期限", "2029年12月31日", "valid_until"),
    ], ""),
    "tobacco_retail_licence": ("烟草专卖零售许可证", [
        ("企业名称", SHOP, "holder_name"), ("许可证号", "330106581639", "licence_number"),
        ("有效期限", "2024年03月01日至2029年02月28日", "valid_until"),
    ], ""),
    "publication_business_licence": ("出版物经营许可证", [
        ("单位名称", SHOP, "holder_name"), ("许可证编号", "新出发浙零字第西330123号", "licence_number"),
        ("有效期限", "2023年05月01日至2028年04月30日", "valid_until"),
    ], ""),
    "pesticide_business_licence": ("农药经营许可证", [
        ("经营者名称", SHOP, "holder_name"), ("许可证编号", "农药经许(浙)33011020180012", "licence_number"),
        ("有效期至", "2028年06月20日", "valid_until"),
    ], ""),
    "veterinary_drug_business_licence": ("兽药经营许可证", [
        ("单位名称", SHOP, "holder_name"), ("证号", "(2020)兽药经营证字330012345号", "licence_number"),
        ("有效期限", "2025年07月01日至2030年06月30日", "valid_until"),
    ], ""),
    "cosmetics_filing": ("国产普通化妆品备案", [
        ("备案人", SHOP, None), ("备案编号", "浙G妆网备字2020012345", "licence_number"),
        ("产品名称", "鲜果时光玫瑰保湿修护面霜", "product_name"),
    ], "鲜果时光玫瑰保湿修护面霜"),
    "medical_device_registration": ("医疗器械注册证", [
        ("注册人名称", SHOP, None), ("注册证编号", "国械注准20193140123", "licence_number"),
        ("产品名称", "鲜果时光医用冷敷贴", "product_name"), ("有效期至", "2029年12月31日", "valid_until"),
    ], "鲜果时光医用冷敷贴"),
    "health_food_approval": ("保健食品注册证书", [
        ("注册人", SHOP, None), ("注册号", "国食健注G20200123", "licence_number"),
        ("产品名称", "鲜果时光牌维生素C咀嚼片", "product_name"),
    ], "鲜果时光牌维生素C咀嚼片"),
    "infant_formula_registration": ("婴幼儿配方乳粉产品配方注册证书", [
        ("申请人", SHOP, None), ("注册号", "国食注字YP20180012", "licence_number"),
        ("产品名称", "鲜果时光婴儿配方奶粉", "product_name"),
    ], "鲜果时光婴儿配方奶粉"),
    "pesticide_registration": ("农药登记证", [
        ("登记证持有人", SHOP, None), ("登记证号", "PD20080123", "licence_number"),
        ("农药名称", "鲜果时光吡虫啉", "product_name"), ("有效期至", "2028年01月15日", "valid_until"),
    ], "鲜果时光吡虫啉"),
    "veterinary_drug_approval": ("兽药产品批准文号批件", [
        ("生产企业", SHOP, None), ("批准文号", "兽药字(2019)110012345", "licence_number"),
        ("兽药通用名称", "鲜果时光阿莫西林可溶性粉", "product_name"), ("有效期至", "2029年05月05日", "valid_until"),
    ], "鲜果时光阿莫西林可溶性粉"),
    "trademark_certificate": ("商标注册证", [
        ("注册号", "第36378584号", "licence_number"), ("商标名称", BRAND, "brand"), ("注册人", SHOP, "holder_name"),
        ("核定使用商品", "第29类", None), ("注册有效期限", "2017年05月28日至2027年05月27日", "valid_until"),
    ], ""),
}
H = 40  # text height, pixels


def _quad(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def page(title: str, rows: list[tuple[str, str | None, float]]) -> DocumentReading:
    """A legible form: a title, then one row per (label, value or None, value confidence)."""
    lines = [PageLine(title, 0.99, _quad(500, 60, 500 + 60 * len(title), 130), _quad(500, 60, 500 + 60 * len(title), 130))]
    for i, (label, value, conf) in enumerate(rows):
        y = 200 + i * 90
        if label is None:
            continue  # a row nothing was read in (an overprint or glare over all of it)
        q = _quad(100, y, 100 + 36 * len(label), y + H)
        lines.append(PageLine(label, 0.99, q, q))
        if value:
            x = 100 + 36 * len(label) + 120
            q = _quad(x, y, x + 36 * len(value), y + H)
            lines.append(PageLine(value, conf, q, q))
    reading = PageReading(page=1, size=(1800, 1400), transform=geo.Transform.identity((1800, 1400)), quarter_turns=0,
                          skew_deg=0.0, rectified=False, lines=lines, sharpness=1500.0, colour_fraction=0.02)
    return DocumentReading(file="docs/doc.jpg", page_count=1, pages=[reading])


def decision(doc_type: str, rows, title=None, product_title="") -> tuple[str, list[str], object]:
    ref = DocumentRef(file="docs/doc.jpg")
    work = interpret_document(page(title or PAGES[doc_type][0], rows), ref, SETTINGS, RULES)
    assert work.doc_type == doc_type, (work.doc_type, work.classification)
    brand = BRAND if doc_type == "trademark_certificate" else None
    sub = Submission(id="S", shop=Shop(name="店", company=SHOP, credit_code=CODE),
                     product=Product(title=product_title, category=category_for(doc_type, RULES), brand=brand),
                     documents=[ref])
    ev = evaluate(sub, [work], RULES, TODAY)
    got, codes = document_decision(ev, ref.file)
    return got, codes, ev


def _rows(doc_type, blank_field=None, how=None):
    out = []
    for label, value, field in PAGES[doc_type][1]:
        if field is not None and field == blank_field:
            if how == "blank":
                out.append((label, None, 0.99))
            elif how == "sealed":  # a red seal over the value: a few low-confidence strokes
                out.append((label, "囗乙", 0.31))
            else:  # unreadable: a smudge read as characters
                out.append((label, "口口口口口口口口", 0.52))
        else:
            out.append((label, value, 0.99))
    return out


@pytest.mark.parametrize("doc_type", sorted(PAGES))
def test_the_complete_page_approves(doc_type):
    """The baseline: with every value printed and read, the document's own checks approve."""
    got, codes, ev = decision(doc_type, _rows(doc_type), product_title=PAGES[doc_type][2])
    assert (got, codes) == ("approve", []), [c for c in ev.checks if c.status != "pass"]


CASES = [(t, f, how) for t, (_, rows, _) in sorted(PAGES.items()) for _, _, f in rows if f
         for how in ("blank", "sealed", "unreadable")]


@pytest.mark.parametrize(("doc_type", "field", "how"), CASES, ids=lambda v: str(v))
def test_a_printed_label_whose_value_was_not_read_never_approves(doc_type, field, how):
    got, codes, ev = decision(doc_type, _rows(doc_type, field, how), product_title=PAGES[doc_type][2])
    assert got != "approve", [c for c in ev.checks]
    assert codes, "a doubtful rule always says why"


LICENCE_NO_TERM = [("统一社会信用代码", CODE, 0.99), ("名称", SHOP, 0.99), ("类型", "有限责任公司", 0.99),
                   ("法定代表人", "沈思雨", 0.99), ("成立日期", "2015年01月01日", 0.99), ("住所", "杭州市西湖区文三路90号", 0.99)]


def test_no_term_on_an_unrecognised_layout_is_missing_not_absent():
    got, codes, ev = decision("business_licence", LICENCE_NO_TERM)
    assert got == "review" and codes == ["LOW_CONFIDENCE"]
    check = next(c for c in ev.checks if c.name == "valid_on_check_date")
    assert "not one that omits it" in check.message


@pytest.mark.parametrize(("extra", "variant"), [
    (("经营者", "沈思雨", 0.99), "individual"),
    (("登记机关", "2023年05月15日", 0.99), "issued_2022"),
])
def test_no_term_on_a_layout_that_omits_it_is_not_printed(extra, variant):
    rows = [r for r in LICENCE_NO_TERM if r[0] != "法定代表人"] + [extra]
    got, codes, ev = decision("business_licence", rows)
    assert (got, codes) == ("approve", [])
    check = next(c for c in ev.checks if c.name == "valid_on_check_date")
    assert check.status == "skip" and "not printed" in check.message and variant in check.message


def test_two_row_term_is_read_and_an_expired_one_rejects():
    rows = LICENCE_NO_TERM + [("营业期限自", "2015年01月01日", 0.99), ("营业期限至", "2025年12月31日", 0.99)]
    got, codes, _ev = decision("business_licence", rows)
    assert got == "reject" and "EXPIRED" in codes


def test_two_row_term_with_its_end_unread_never_approves():
    rows = LICENCE_NO_TERM + [("营业期限自", "2015年01月01日", 0.99), ("营业期限至", None, 0.99)]
    assert decision("business_licence", rows)[0] == "review"


def test_a_start_alone_is_not_a_term():
    rows = LICENCE_NO_TERM + [("营业期限", "自2015年01月01日起", 0.99)]
    got, _codes, ev = decision("business_licence", rows)
    assert got == "review"
    assert "a start alone is not a term" in next(c for c in ev.checks if c.name == "valid_on_check_date").message


def test_blank_end_is_long_term_and_the_printed_text_is_shown():
    rows = LICENCE_NO_TERM + [("营业期限", "2015年01月01日至 年 月 日", 0.99)]
    got, _codes, ev = decision("business_licence", rows)
    assert got == "approve"
    check = next(c for c in ev.checks if c.name == "valid_on_check_date")
    assert check.found == "long_term" and "年月日" in check.message.replace(" ", "")


def test_a_branch_licence_may_leave_its_term_blank():
    rows = [r for r in LICENCE_NO_TERM if r[0] not in ("名称", "住所")] + [
        ("名称", "杭州鲜果时光食品有限公司西湖分公司", 0.99), ("营业场所", "杭州市西湖区文三路90号", 0.99),
        ("营业期限", None, 0.99)]
    ref = DocumentRef(file="docs/doc.jpg")
    work = interpret_document(page("营业执照", rows), ref, SETTINGS, RULES)
    assert work.extraction.layout == "branch" and "valid_until" in work.extraction.blank
    sub = Submission(id="S", shop=Shop(name="店", company="杭州鲜果时光食品有限公司西湖分公司", credit_code=CODE),
                     product=Product(title="", category="general"), documents=[ref])
    got, _ = document_decision(evaluate(sub, [work], RULES, TODAY), ref.file)
    assert got == "approve"


def test_a_holder_name_running_into_the_next_label_is_cut_and_cannot_reject():
    rows = _rows("food_business_licence")
    rows = [(lab, (SHOP + "许可证编号：JY13301068424513") if lab == "经营者名称" else val, c) for lab, val, c in rows]
    got, _codes, ev = decision("food_business_licence", rows)
    holder = next(c for c in ev.checks if c.name == "holder_matches_shop")
    assert holder.found == SHOP and got == "approve"
    other = [(lab, ("杭州鲜果时兴食品有限公司许可证编号：JY1" if lab == "经营者名称" else val), c) for lab, val, c in rows]
    got, _codes, ev = decision("food_business_licence", other)
    assert got != "reject"  # a cut value is never a confident mismatch


def test_an_unread_row_where_the_term_would_be_is_not_an_omitted_term():
    """Issued after 2022-03 (a layout that omits 营业期限), but the rows under 成立日期 leave a
    row-sized blank: the term may be printed there and unread."""
    rows = [r for r in LICENCE_NO_TERM if r[0] != "住所"] + [(None, None, 0.0), ("住所", "杭州市西湖区文三路90号", 0.99),
                                                           ("登记机关", "2023年05月15日", 0.99)]
    got, codes, ev = decision("business_licence", rows)
    assert got == "review" and codes == ["LOW_CONFIDENCE"]
    assert "blank of" in next(c for c in ev.checks if c.name == "valid_on_check_date").message
