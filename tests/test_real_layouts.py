"""Kinds of real upload that issue 20 found read wrong, as OCR lines placed like the printed page
(no OCR): old label wordings, a value printed half a line off its label, microprint glued to a
label, a site watermark glued to a name, a licence cut off below its last row, a hand that holds
the sheet by its margin, the re-read's regions and checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from stdnum.cn import uscc

from extractors import business_licence
from extractors.values import strip_site_tail
from pipeline import geometry as geo
from pipeline.capture_flags import (
    Blob,
    PageSignals,
    _occlusion_findings,
    bottom_cut_finding,
    footer_sides,
    top_cut_finding,
)
from pipeline.preprocess import PageLine, PageReading
from pipeline.rereads import _regions, _valid_code
from rules import load_rules
from tests.test_extractor_accuracy import line

T = load_rules().thresholds.capture_flags
CODE = "91330106MA2H3B4C6" + uscc.calc_check_digit("91330106MA2H3B4C6")


def old_enterprise_licence(period_offset: float = 0.0) -> list:
    """An old 企业法人营业执照: 法定代表人姓名, a 13-digit 注册号, dates in Chinese numerals, the 营业期限
    dates printed `period_offset` px above their label (a printer that missed the form's lines)."""
    return [
        line("企业法人营业执照", 70, 10, 610, height=90),
        line("注册号", 280, 171, 351, height=33), line("3102252037276", 351, 176, 512, height=30),
        line("名", 76, 214, 111, height=50), line("称", 204, 218, 236, height=31),
        line("上海邓阳贸易有限公司", 255, 221, 488, height=33),
        line("住", 77, 254, 111, height=39), line("所", 203, 259, 237, height=36),
        line("浦东新区芦潮港镇芦潮港路", 251, 264, 481, height=27),
        line("法定代表人姓名", 77, 303, 236, height=35), line("黄俊杰", 247, 308, 328, height=32),
        line("成立日期", 75, 739, 239, height=32), line("二〇〇六年十一月十四日", 263, 741, 492, height=28),
        line("二〇〇六年十一月十四日", 263, 779 - period_offset, 492, height=26),
        line("至二〇二六年十一月十三日", 520, 779 - period_offset, 783, height=26),
        line("营业期限", 75, 779, 239, height=31),
    ]


def test_old_labels_13_digit_number_and_a_term_printed_off_its_row():
    out = business_licence.extract(old_enterprise_licence(period_offset=17))
    got = {k: f.value for k, f in out.fields.items()}
    assert got["legal_representative"] == "黄俊杰"  # not 姓名黄俊杰
    assert got["licence_number"] == "3102252037276"
    assert (got["valid_from"], got["valid_until"]) == ("2006-11-14", "2026-11-13")


def test_individual_licence_labels_and_its_own_term():
    lines = [line("个体工商户营业执照", 309, 262, 1178, height=150),
             line("注册号321023600367363", 1049, 421, 1398, height=42),
             line("字号名称宝应县永高电力设备制造厂", 190, 453, 858, height=48),
             line("经营者姓名周梅", 191, 528, 568, height=37),
             line("组成形式个人经营", 191, 595, 626, height=47),
             line("执照有效期：自2011 年6 月21日", 191, 879, 624, height=33),
             line("至2015 年6 月 21 日", 350, 914, 624, height=36)]
    out = business_licence.extract(lines)
    got = {k: f.value for k, f in out.fields.items()}
    assert got["holder_name"] == "宝应县永高电力设备制造厂" and got["legal_representative"] == "周梅"
    assert got["valid_until"] == "2015-06-21"
    assert out.layout == "individual"  # 经营者姓名 is the 经营者 cue


def test_microprint_glued_to_a_label_does_not_hide_it():
    lines = [line("营业执照", 400, 100, 900, height=90), line("统一社会信用代码", 100, 200, 300),
             line(CODE, 100, 230, 330), line("名称", 100, 300, 160), line("上海声康环境科技有限公司", 200, 300, 500),
             line("SCJDGL登记机关", 872, 933, 1278, height=40), line("2023", 1204, 997, 1283, height=35),
             line("年05月10日", 1276, 994, 1473, height=37)]
    out = business_licence.extract(lines)
    assert out.labels_found.get("authority") == "登记机关"
    assert out.layout == "issued_2022"  # the issue date under 登记机关 was read


@pytest.mark.parametrize(("name", "kept", "tail"), [
    ("武汉市江岸区苒灿互联网科技工作室赶集网58同城", "武汉市江岸区苒灿互联网科技工作室", "赶集网58同城"),
    ("某某贸易商行www.abc.com", "某某贸易商行", "www.abc.com"),
    ("上海会计服务有限公司", "上海会计服务有限公司", None),  # 会 inside the name is no ending to cut at
    ("杭州某某网络科技有限公司", "杭州某某网络科技有限公司", None),
    ("周村永泰电器厂电", "周村永泰电器厂电", None),  # a stray character, not a site: left for the rules
])
def test_a_site_watermark_glued_after_the_name_is_cut(name, kept, tail):
    assert strip_site_tail(name) == (kept, tail)


# --- rule 8: border, hand --------------------------------------------------------------------

def licence_rows(with_bottom: bool, height: int = 700) -> list:
    rows = [line("营业执照", 300, 40, 700, height=80), line("名称 杭州某某有限公司", 60, 200, 500),
            line("类型 有限责任公司", 60, 260, 400), line("法定代表人 周某", 60, 320, 400),
            line("成立日期 2019年07月22日", 600, 200, 900), line("营业期限 长期", 600, 260, 900),
            line("住所 杭州市西湖区", 600, 320, 900)]
    if with_bottom:
        rows += [line("登记机关", 650, 560, 760), line("2021年04月11日", 800, 600, 980),
                 line("国家市场监督管理总局监制", 700, height - 30, 980, height=20)]
    return rows


def test_a_licence_cut_off_below_its_last_row_is_border_incomplete():
    cut = licence_rows(with_bottom=False)
    identity = geo.Transform.identity((1000, 360))
    found = bottom_cut_finding(cut, 360.0, identity.apply, 1, T, (1000, 360))
    assert found is not None and found.sides == ["bottom"] and found.box[1] >= 300
    whole = licence_rows(with_bottom=True)
    assert bottom_cut_finding(whole, 700.0, geo.Transform.identity((1000, 700)).apply, 1, T, (1000, 700)) is None
    # a sheet that ends well above the frame's bottom: the anchor was just not read, no cut
    assert bottom_cut_finding(cut, 1400.0, geo.Transform.identity((1000, 1400)).apply, 1, T, (1000, 1400)) is None


def test_a_licence_cut_off_above_its_first_row_is_border_incomplete():
    def shifted(rows, dy):
        return [line(ln.text, int(ln.quad[0][0]), int(ln.quad[0][1]) + dy, int(ln.quad[2][0]),
                     height=int(ln.quad[2][1] - ln.quad[0][1])) for ln in rows]

    rows = licence_rows(with_bottom=True)
    # the frame's top passes through the sheet under the title: the first row is the first print
    cut = shifted([ln for ln in rows if ln.text != "营业执照"], -190)
    identity = geo.Transform.identity((1000, 520))
    found = top_cut_finding(cut, identity.apply, 1, T, (1000, 520))
    assert found is not None and found.sides == ["top"] and found.box[1] == 0 and found.box[3] <= 20
    assert top_cut_finding(rows, geo.Transform.identity((1000, 700)).apply, 1, T, (1000, 700)) is None
    # a washed-out title with the credit code read above 名称: the top is in the frame
    code_row = shifted([line("统一社会信用代码 91330106MA2H3B4C6X", 60, 200, 500)], -190)
    assert top_cut_finding(code_row + cut, identity.apply, 1, T, (1000, 520)) is None
    # a margin above the first row: the title was just not read, no cut
    assert top_cut_finding(shifted(cut, 300), geo.Transform.identity((1000, 820)).apply, 1, T, (1000, 820)) is None


def test_a_licence_footer_read_at_the_bottom_shows_its_bottom_edge_is_in_the_frame():
    assert footer_sides(licence_rows(with_bottom=True), T) == ("bottom",)
    assert footer_sides(licence_rows(with_bottom=False), T) == ()


def test_a_hand_on_the_margin_is_no_occlusion_but_a_finger_over_print_is():
    signals = PageSignals(page=1, size=(1000, 700))
    rows = licence_rows(with_bottom=True)
    signals.skin = [Blob(box=(0, 600, 50, 700), area_share=0.01, touches_edge=True)]  # holding the corner
    assert _occlusion_findings(signals, {}, T, None, rows) == []
    signals.skin = [Blob(box=(40, 180, 300, 300), area_share=0.02, touches_edge=True)]  # over 名称 and 类型
    assert [f.flag for f in _occlusion_findings(signals, {}, T, None, rows)] == ["occluded"]


# --- re-read targets ---------------------------------------------------------------------------

def _page(lines) -> PageReading:
    page = PageReading(page=1, size=(1000, 700), transform=geo.Transform.identity((1000, 700)), quarter_turns=0,
                       skew_deg=0.0, rectified=False)
    page.lines = [PageLine(ln.text, ln.confidence, ln.quad, ln.quad_original) for ln in lines]
    return page


def test_reread_regions_follow_the_evidence():
    bad = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")
    regions = _regions(_page([line("营业执照", 300, 40, 700, height=80), line(f"统一社会信用代码 {bad}", 60, 130, 500),
                              line("名称 杭州某某有限公司", 60, 200, 500)]))
    assert regions[0][0] == "a code-like run that fails its check"
    regions = _regions(_page([line("营业执照", 300, 40, 700, height=80), line("名称 杭州某某有限公司", 60, 200, 500)]))
    (why, box), = regions
    assert why == "no code row read between the title and 名称" and box[1] < 40 and box[3] <= 200


def test_a_reread_keeps_only_a_code_that_passes_its_check():
    assert _valid_code(f"统一社会信用代码{CODE}") == CODE
    assert _valid_code("统一社会信用代码91330106MA2H3B4C6") is None  # 17 characters: never completed by guess
    assert _valid_code(CODE[:-1] + ("0" if CODE[-1] != "0" else "1")) is None


# --- letters -----------------------------------------------------------------------------------

def _letter(signature: str) -> list:
    return [line("授权书", 443, 138, 640, height=62),
            line("我局（九江市浔阳区文化新闻出版局）对于我局下属", 221, 267, 954, height=40),
            line("的浔阳区历史文化展示馆的语音导览资料拥有完全的知识产权。", 160, 325, 937, height=40),
            line("我局现同意上海趋势电子有限公司使用浔阳区历史", 204, 443, 954, height=40),
            line("特此授权！", 153, 675, 303, height=45),
            line(signature, 550, 1147, 860, height=50), line("2015年6月10日", 574, 1202, 835, height=56)]


def test_a_letter_names_its_grantor_in_its_body_and_is_checked_against_its_signature():
    from extractors import brand_authorization
    from tests.test_rules import doc, verdict

    out = brand_authorization.extract(_letter("九江市文化新闻出版局"))
    assert out.fields["grantor"].value == "九江市浔阳区文化新闻出版局"
    assert out.fields["holder_name"].value == "上海趋势电子有限公司"
    assert out.signatory.value == "九江市文化新闻出版局"
    work = doc("brand_authorization", holder_name="上海趋势电子有限公司", grantor="九江市浔阳区文化新闻出版局",
               brand="某某", valid_until="2027-06-30")
    work.extraction = out
    decision, codes, ev = verdict([work])
    check = next(c for c in ev.checks if c.name == "letter_signed_by_grantor")
    assert check.status == "review" and "九江市浔阳区文化新闻出版局" in check.message and "九江市文化新闻出版局" in check.message
    assert decision != "approve" and "AUTHORIZATION_CHAIN_BROKEN" in codes


def test_a_letter_signed_by_the_grantor_its_body_names_passes_and_the_signature_names_an_unstated_grantor():
    from extractors import brand_authorization

    same = brand_authorization.extract(_letter("九江市浔阳区文化新闻出版局"))
    assert same.signatory.value == same.fields["grantor"].value
    # no 授权方 line, no sentence naming the writer: the signing party is the grantor
    body = [ln for ln in _letter("杭州某某品牌管理有限公司") if not ln.text.startswith("我局（")]
    assert brand_authorization.extract(body).fields["grantor"].value == "杭州某某品牌管理有限公司"


def misaligned_old_licence(shift: float) -> list:
    """An old 企业法人营业执照 whose values were printed `shift` px above their labels (rows 42 px apart,
    text 30 px high): at 25 px, each value lies nearer the label above its own."""
    rows = [("名称", "徐州华联玻璃制品有限公司"), ("住所", "铜山县马坡镇前八段村"), ("法定代表人姓名", "李尊林"),
            ("公司类型", "有限公司(自然人独资)"), ("经营范围", "许可经营项目：无。"), ("成立日期", "2004年2月23日"),
            ("营业期限", "2004年02月23日至2014年02月09日")]
    out = [line("企业法人营业执照", 335, 238, 996, height=99), line("注册号", 838, 354, 911, height=29),
           line("320323000020813", 929, 336, 1097, height=26)]
    for k, (label, value) in enumerate(rows):
        top = 400 + 42 * k
        out.append(line(label, 157, top, 157 + 30 * len(label), height=30))
        out.append(line(value, 345, top - shift, 345 + 22 * len(value), height=30))
    return out


def test_values_printed_half_a_row_off_their_labels_are_read_with_their_own_labels():
    out = business_licence.extract(misaligned_old_licence(25))
    got = {k: f.value for k, f in out.fields.items()}
    assert got["holder_name"] == "徐州华联玻璃制品有限公司" and got["legal_representative"] == "李尊林"
    assert (got["valid_from"], got["valid_until"]) == ("2004-02-23", "2014-02-09")
    assert any("misaligned print" in n for n in out.notes)
    aligned = business_licence.extract(misaligned_old_licence(0))
    assert not any("misaligned print" in n for n in aligned.notes)
    assert aligned.fields["holder_name"].value == "徐州华联玻璃制品有限公司"


def test_the_issue_year_alone_places_a_licence_after_2022():
    lines = [line("营业执照", 400, 100, 900, height=90), line("统一社会信用代码", 100, 200, 300),
             line(CODE, 100, 230, 330), line("名称", 100, 300, 160), line("清华大学出版社有限公司", 200, 300, 500),
             line("成立日期 2004 年 03 月 17 日", 600, 370, 900), line("登记机关", 883, 661, 1045, height=34),
             line("2024", 1032, 723, 1088), line("16", 1193, 724, 1224)]
    out = business_licence.extract(lines)
    assert out.layout == "issued_2022" and "2024" in out.layout_evidence
    old = [ln if ln.text != "2024" else line("2019", 1032, 723, 1088) for ln in lines]
    assert business_licence.extract(old).layout is None  # 2019: could be before 2022-03-01


def test_a_character_beside_the_name_label_is_no_name():
    lines = [line("企业法人营业执照", 58, 101, 717, height=110), line("南通帝尚纺织品有限公司", 288, 333, 587, height=33),
             line("名住", 57, 338, 103, height=109), line("称所", 212, 338, 265, height=110),
             line("南通市通州区川姜镇三圩埭26组", 290, 394, 667, height=33), line("法定代表人姓名", 62, 453, 260, height=45),
             line("陈学军", 285, 443, 378, height=42)]
    out = business_licence.extract(lines)
    assert out.fields["holder_name"].value == "南通帝尚纺织品有限公司"


# --- ID cards: what the card prints against what its number encodes -----------------------------

def _id_card(*texts):
    import datetime as dt

    from pipeline.checks import decide, evaluate
    from pipeline.document import DocumentWork
    from pipeline.media.listing import ListingReading
    from pipeline.models import DocumentRef, DocumentResult, FieldValue, Quality, Submission

    number = "43051219890813136"
    from validators import id_number

    number += id_number.calc_check_digit(number)
    page = _page([line(t, 40, 60 + 40 * i, 400) for i, t in enumerate(texts)] + [line(number, 170, 300, 500)])
    result = DocumentResult(file="docs/id.jpg", doc_type="id_card", doc_type_confidence=0.9, pages=1,
                            fields={"licence_number": FieldValue(value=number, confidence=0.99, page=1)},
                            quality=Quality(ok=True, sharpness=500.0, width=1000, height=700, skew_deg=0.0, flags=[]))
    work = DocumentWork(ref=DocumentRef(file="docs/id.jpg"), result=result, readings=[page])
    sub = Submission.model_validate({"id": "S", "shop": {"name": "店", "company": "杭州某某有限公司"},
                                     "product": {"title": "杯子", "category": "general"}, "documents": []})
    ev = evaluate(sub, [work], load_rules(), dt.date(2026, 11, 30), ListingReading(images=[]))
    return decide(ev), {c.name: c for c in ev.checks}


def test_an_id_card_whose_printed_birth_date_and_sex_disagree_with_its_number_goes_to_review():
    # the number encodes 1989-08-13 and an even 17th digit (female)
    _, checks = _id_card("姓名 王某某", "性别女 民族汉", "出生 1989年8月13日")
    assert checks["number_format"].status == "pass"
    _, checks = _id_card("姓名 王某某", "性别男 民族汉", "出生2013年 05 月 06日")  # the 代用名 specimen's kind
    check = checks["number_format"]
    assert check.status == "review"
    assert "1989-08-13" in check.message and "2013-05-06" in check.message and "性别 男" in check.message


@pytest.mark.ocr
def test_the_demo_licence_cut_above_its_first_row_goes_to_review(tmp_path, engine):
    """End to end on a real reading: the demo licence with the frame's top through the sheet just
    above 名称 (title, credit code and 编号 gone) is border_incomplete at the top, and not approved."""
    import datetime as dt
    import json

    import cv2

    from pipeline.runner import verify

    demo = Path(__file__).resolve().parents[1] / "fixtures" / "submissions" / "demo"
    (tmp_path / "docs").mkdir()
    image = cv2.imread(str(demo / "docs" / "business_licence.jpg"))
    assert cv2.imwrite(str(tmp_path / "docs" / "business_licence.jpg"), image[690:])
    submission = json.loads((demo / "submission.json").read_text(encoding="utf-8"))
    (tmp_path / "submission.json").write_text(json.dumps(submission, ensure_ascii=False), encoding="utf-8")
    verdict = verify(tmp_path / "submission.json", today=dt.date(2026, 11, 27), engine=engine)
    assert verdict.decision != "approve"
    (doc,) = verdict.documents
    evidence = [e for e in doc.quality.evidence if e.flag == "border_incomplete"]
    assert evidence and any("at the top (nothing of the title" in f for f in doc.quality.flags), doc.quality.flags
    assert "AUTHENTICITY_FLAG" in {r.code for r in verdict.reasons}


# --- an overprint over the date labels (issue 20 kinds) -----------------------------------------

def overprinted_licence(term: str = "限 2010年08月02日至长期") -> list:
    """The modern layout with a diagonal promotional overprint over the first characters of
    成立日期 and 营业期限: `立日期 …` and `限 …` are what is read."""
    return [line("统一社会信用代码", 200, 348, 417), line(CODE, 197, 384, 375), line("营业执照", 500, 300, 1000, height=90),
            line("名", 200, 515, 230), line("称云南展旭工程咨询有限公司", 318, 513, 620),
            line("注册资本壹仟万元整", 883, 510, 1157), line("类", 200, 555, 230),
            line("型有限责任公司(自然人投资或控股)", 317, 557, 682), line("立日期 2010年08月02日", 910, 555, 1202),
            line(term, 998, 599, 1282), line("法定代表人周荣先", 196, 601, 429),
            line("经营范围许可项目：各类工程建设活动；劳务派遣服务", 197, 645, 858),
            line("住所 昆明市五华区人民路1号", 1000, 645, 1390)]


def test_date_labels_under_an_overprint_still_give_the_dates():
    out = business_licence.extract(overprinted_licence())
    got = {k: f.value for k, f in out.fields.items()}
    assert got["established"] == "2010-08-02"
    assert (got["valid_from"], got["valid_until"]) == ("2010-08-02", "long_term")
    assert any("the only date range printed" in n for n in out.notes)


def test_two_date_ranges_without_a_term_label_give_no_term():
    lines = overprinted_licence() + [line("2011年01月01日至2031年01月01日", 998, 460, 1282)]
    out = business_licence.extract(lines)
    assert "valid_until" not in out.fields  # ambiguous: which range is the term is a person's call


@pytest.mark.ocr
def test_date_rows_the_detector_missed_are_read_again_under_capital(engine):
    """The demo licence's 成立日期 row dropped from its reading (as a grey watermark across it makes
    the detector miss it): the band under 注册资本 is read again and the row comes back, once."""
    import cv2

    from pipeline.preprocess import read_page
    from pipeline.rereads import reread_missing_dates
    from pipeline.settings import get_settings

    demo = Path(__file__).resolve().parents[1] / "fixtures" / "submissions" / "demo" / "docs" / "business_licence.jpg"
    image = cv2.imread(str(demo))
    page = read_page(image, engine, get_settings().preprocess)
    dropped = [ln for ln in page.lines if "成立日期" in ln.text or "营业期限" in ln.text]
    assert dropped, [ln.text for ln in page.lines]
    page.lines = [ln for ln in page.lines if ln not in dropped]
    count = len(page.lines)
    assert reread_missing_dates(image, page, engine, "注册资本", date_labels_read=True) == []
    attempts = reread_missing_dates(image, page, engine, "注册资本", date_labels_read=False)
    assert attempts and attempts[-1].kept
    back = [ln.text for ln in page.lines[count - len(page.lines):]] if len(page.lines) > count else []
    texts = "".join("".join(ln.text.split()) for ln in page.lines)
    assert "2019年07月22日" in texts and len(page.lines) > count, back
    # nothing already read was added twice
    assert sum("注册资本" in ln.text for ln in page.lines) == 1
