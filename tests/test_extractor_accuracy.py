"""Extraction on OCR lines as the recogniser returns them: hung punctuation lost at line ends,
misread boilerplate, label characters lost or split by speckle, text from other blocks below a
value. Built from OCR lines directly (no OCR run), so each case states exactly what was read."""

from __future__ import annotations

import numpy as np
import pytest

from extractors import business_licence
from extractors.form import extract_form
from extractors.layout import group_rows, is_speckle
from extractors.text import scope_text
from extractors.types import OcrLine


def line(text: str, left: float, top: float, right: float, height: float = 24, confidence: float = 0.99) -> OcrLine:
    quad = np.array([[left, top], [right, top], [right, top + height], [left, top + height]], dtype=np.float32)
    return OcrLine(text, confidence, quad, quad.copy())


# --- scope text -------------------------------------------------------------------------------

REMARK_AFTER = "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
REMARK_BEFORE = "（依法须经批准的项目，经相关部门批准后方可开展经营活动）"


@pytest.mark.parametrize(("lines", "expected"), [
    # the closing ） hung past the margin of the last line and was not detected
    (["一般项目：日用百货销售。（除依法须经批准的项目外，凭营业执照", "依法自主开展经营活动"],
     "一般项目：日用百货销售。" + REMARK_AFTER),
    # the 。 hung at the end of a line that closes a bracket, before a bracketed sentence
    (["自营进出口业务（国家限定企业经营或禁止进出口的商品和技术除外)", "(依法须经批准的项目，经相关部门批准后方可开展经营活动）"],
     "自营进出口业务（国家限定企业经营或禁止进出口的商品和技术除外）。" + REMARK_BEFORE),
    # the ； after an item's closing qualifier, at a line end
    (["互联网销售（除销售需要许可的商品）", "货物进出口。"], "互联网销售（除销售需要许可的商品）；货物进出口。"),
    # both the ） and the final 。 lost after a qualifier that ends the last item
    (["许可项目：农药零售；农药批发。一般项目：互联网销售（除销售需要许可", "的商品"],
     "许可项目：农药零售；农药批发。一般项目：互联网销售（除销售需要许可的商品）。"),
    # the final 。 of a list of items
    (["一般项目：文具用品零售；会议及展览服务"], "一般项目：文具用品零售；会议及展览服务。"),
    # a heading starts a sentence: the 。 before it, misread as ， or lost
    (["许可项目：第三类医疗器械经营，一般项目：第一类医疗器械销售。"],
     "许可项目：第三类医疗器械经营。一般项目：第一类医疗器械销售。"),
    (["许可项目：食品销售（含保健食品）一般项目：健康咨询服务。"],
     "许可项目：食品销售（含保健食品）。一般项目：健康咨询服务。"),
    # 一般经营项目是： is a heading too, its colon stays a colon
    (["一般经营项目是：国内贸易。"], "一般经营项目是：国内贸易。"),
    # 〔〕 read as （）: the closer follows the bracket it closes
    (["乳制品〔乳粉（婴幼儿配方乳粉））生产、销售。"], "乳制品〔乳粉（婴幼儿配方乳粉）〕生产、销售。"),
    # the prescribed closing remark, misread (。 for ，, 频 for 须, 管 for 营) and unclosed
    (["农副产品销售。（依法频经批准的项目。经相关部门批准后方可开展经管活动"], "农副产品销售。" + REMARK_BEFORE),
    (["化妆品零售。（除依法须经批准的项目外·凭营业执照依法自主开展经营活动）"], "化妆品零售。" + REMARK_AFTER),
    # the 。 before a closing remark lost inside a line: the remark is a sentence of its own
    (["互联网销售（除销售需要许可的商品）（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"],
     "互联网销售（除销售需要许可的商品）。" + REMARK_AFTER),
    # text read right stays as it is
    (["一般项目：家居用品销售；互联网销售（除销售需要许可的商品）。", REMARK_AFTER],
     "一般项目：家居用品销售；互联网销售（除销售需要许可的商品）。" + REMARK_AFTER),
])
def test_business_scope_restores_what_ocr_drops(lines, expected):
    assert scope_text(lines, business_licence=True) == expected


def test_a_mid_item_qualifier_on_a_food_licence_keeps_its_item_whole():
    # 预包装食品（含冷藏冷冻食品）销售 wraps after its qualifier: no ； belongs there, no 。 at the end
    assert scope_text(["预包装食品（含冷藏冷冻食品）", "销售；保健食品销售"]) == "预包装食品（含冷藏冷冻食品）销售；保健食品销售"


def test_remark_that_differs_in_substance_is_not_replaced():
    own = "（涉及许可经营项目，应取得相关部门许可后方可经营）"
    assert scope_text(["服装零售。" + own], business_licence=True) == "服装零售。" + own


# --- layout -----------------------------------------------------------------------------------

def test_speckle_between_label_characters_is_ignored():
    speckle = line("2", 140, 100, 167, confidence=0.13)
    assert is_speckle(speckle)
    rows = group_rows([line("名", 107, 100, 134), speckle, line("称", 177, 100, 204),
                       line("成都知行书店有限公司", 218, 100, 397)])
    assert rows[0].text == "名称成都知行书店有限公司"


def licence_lines(address_label: list[OcrLine]) -> list[OcrLine]:
    return [
        line("营业执照", 320, 0, 700, height=60),
        line("名称", 100, 100, 195), line("长沙星辰箱包有限公司", 205, 100, 377),
        line("法定代表人", 99, 140, 192), line("李志成", 208, 140, 263),
        line("经营范围", 98, 180, 193), line("箱包、皮具的设计、批发、零售及网上销售。", 207, 180, 542),
        *address_label, line("湖南省长沙市岳麓区麓谷街道桐梓", 680, 180, 933),
        line("坡西路229号2栋604", 681, 204, 835),
    ]


def test_address_label_with_its_first_character_lost_is_still_a_label():
    # 住 under a seal, 所 alone before the value
    out = business_licence.extract(licence_lines([line("所", 640, 180, 668)]))
    assert out.fields["address"].value == "湖南省长沙市岳麓区麓谷街道桐梓坡西路229号2栋604"
    assert out.fields["scope"].value == "箱包、皮具的设计、批发、零售及网上销售。"


def test_a_lone_second_character_inside_running_text_is_not_a_label():
    # `第 12345678 号 …`: the 号 sits right after the number, no label begins there
    rows = group_rows([line("第", 100, 100, 124), line("12345678", 130, 100, 260), line("号", 266, 100, 290),
                       line("注册人", 300, 100, 370)])
    from extractors.layout import find_labels
    hits = find_labels(rows, {"licence_number": ["编号"]})
    assert hits == []


def test_scope_stops_before_a_seal_caption_and_date_to_the_right():
    lines = [
        line("营业执照", 320, 0, 700, height=60),
        line("名称", 100, 100, 195), line("东莞市某某五金制品有限公司", 205, 100, 500),
        line("经营范围", 103, 694, 284, height=40), line("五金制品、塑胶制品、模具的生产和销售；货物进出口。", 316, 703, 854, 30),
        line("登记机关", 936, 708, 1091, 40),
        line("市", 1111, 739, 1146, 43), line("莞", 1111, 767, 1146, 43),
        line("二〇一四年六月九日", 1154, 799, 1368, 45),
    ]
    out = business_licence.extract(lines)
    assert out.fields["scope"].value == "五金制品、塑胶制品、模具的生产和销售；货物进出口。"


def test_spread_label_missing_its_first_character():
    # 经　营　项　目 with 经 faded: 营 | 项 | 目 | value
    lines = [
        line("食品经营许可证", 165, 0, 862, height=100),
        line("经营者名称", 79, 445, 356, 40), line("杭州康宁健康科技有限公司", 353, 448, 683, 36),
        line("营", 144, 932, 191, 35), line("项", 212, 933, 258, 33), line("目", 287, 933, 324, 33),
        line("预包装食品销售（含冷藏冷冻食品）；保健食品销", 356, 933, 948, 36),
        line("售", 355, 964, 393, 42),
        line("许可证编号", 78, 1010, 330, 42), line("JY13301089597682", 353, 1013, 599, 36),
    ]
    out = extract_form("food_business_licence", lines)
    assert out.fields["scope"].value == "预包装食品销售（含冷藏冷冻食品）；保健食品销售"


def test_imported_cosmetics_filing_names_its_domestic_responsible_person():
    lines = [
        line("进口普通化妆品备案凭证", 249, 302, 775, 51),
        line("备案编号：国妆网备进字（沪）2021001234", 456, 377, 943, 31),
        line("产品名称（中文）", 75, 440, 251, 38), line("薇朵兰晶透保湿精华水", 291, 445, 516, 31),
        line("境内责任人", 105, 492, 235, 42), line("上海薇朵贸易有限公司", 293, 496, 513, 32),
        line("境内责任人地址", 86, 547, 257, 36), line("上海市长宁区延安西路1118号龙之梦大厦1506", 294, 550, 735, 31),
    ]
    out = extract_form("cosmetics_filing", lines)
    assert out.fields["holder_name"].value == "上海薇朵贸易有限公司"
    assert out.fields["product_name"].value == "薇朵兰晶透保湿精华水"


# --- values that must not run into the rows below ---------------------------------------------

@pytest.mark.parametrize(("lines", "expected"), [
    # a 。 is added only after a bare character: never onto punctuation that was read
    (["从事货物进出口业务。【依法须经批准的项目，经相关部门批准后方可开展经营活动】"],
     "从事货物进出口业务。【依法须经批准的项目，经相关部门批准后方可开展经营活动】"),
    (["商务服务业（具体经营项目请登录公示平台查询。依法须经批准的项目，经相关部门批准后方可开展经营活动。）"],
     "商务服务业（具体经营项目请登录公示平台查询。依法须经批准的项目，经相关部门批准后方可开展经营活动。）"),
    (["经营范围由章程确定。属于依法须经批准的项目，"], "经营范围由章程确定。属于依法须经批准的项目，"),
    (["XXXXXXXXXX.XXXXXXXXXX."], "XXXXXXXXXX.XXXXXXXXXX."),
    # a heading that starts a line after a short one closing a bracket: a paragraph ends there
    # without a 。 on many licences, so none is added
    (["许可项目：货物进出口（具体经营项目以审批结果为准）", "一般项目：五金产品零售。"],
     "许可项目：货物进出口（具体经营项目以审批结果为准）一般项目：五金产品零售。"),
    # the closing remark straight after the last item, as printed
    (["一般项目：物业管理；企业管理" + REMARK_AFTER], "一般项目：物业管理；企业管理" + REMARK_AFTER),
    (["一般项目：五金产品零售；机械设备研发（除依法须经批准的项目外，凭营", "业执照依法自主开展经营活动）"],
     "一般项目：五金产品零售；机械设备研发" + REMARK_AFTER),
])
def test_business_scope_adds_no_full_stop_that_is_not_printed(lines, expected):
    assert scope_text(lines, business_licence=True) == expected


def test_old_format_address_stops_at_spread_labels_and_a_watermark():
    # 住　所 with 住 lost; below it 法　定　代　表　人 read as `定代表人` (its 人 reaching into the
    # value's column) and 成　立　日　期 with its date half a row lower; a watermark beside
    lines = [
        line("企业法人营业执照", 320, 260, 1272, height=100),
        line("注册号", 993, 434, 1127, 45), line("440300000123456", 1127, 460, 1360, 34),
        line("称", 415, 493, 477, 56), line("佛山某某电子科技有限公司", 472, 518, 860, 44),
        line("型", 420, 570, 470, 50), line("有限责任公司", 475, 580, 700, 40),
        line("所", 420, 619, 473, 54), line("佛山市禅城区某某路8号3楼B1", 472, 639, 832, 39),
        line("某某网", 933, 608, 1365, 62),
        line("定代表人", 181, 675, 474, 60), line("陈建国", 473, 704, 570, 43),
        line("成立日期", 138, 734, 477, 61), line("二〇一二年五月八日", 528, 767, 768, 39),
    ]
    out = business_licence.extract(lines)
    assert out.fields["address"].value == "佛山市禅城区某某路8号3楼B1"
    assert out.fields["legal_representative"].value == "陈建国"


def test_address_continuation_stops_at_a_label_whose_tail_reaches_its_column():
    # a small screenshot: 住　所 with 住 lost, the address wrapped to a second line, then
    # 法定代表人 whose last character sits under the value's column
    lines = [
        line("营业执照", 140, 278, 350, 62),
        line("称", 188, 378, 206, 19), line("湖州某某商贸有限公司", 211, 377, 342, 17),
        line("型", 188, 396, 207, 21), line("有限责任公司(自然人投资或控股)", 215, 396, 360, 19),
        line("所", 189, 416, 207, 20), line("浙江省湖州市某某县某某镇新街3号楼", 214, 415, 370, 19),
        line("12号502", 215, 426, 250, 16),
        line("法定代表人", 127, 434, 208, 24), line("周明", 214, 438, 249, 17),
        line("注册资本", 126, 455, 210, 23), line("伍拾万元整", 214, 458, 269, 17),
    ]
    out = business_licence.extract(lines)
    assert out.fields["address"].value == "浙江省湖州市某某县某某镇新街3号楼12号502"
    assert out.fields["legal_representative"].value == "周明"


def test_scope_with_a_seal_over_the_middle_of_its_lines_keeps_both_pieces():
    # the seal hides the middle of each scope line: the right-hand pieces sit far from the left
    # margin, but under the label's own row, in a column bounded by the next column's labels
    lines = [
        line("营业执照", 486, 115, 919, 105),
        line("名", 94, 338, 127, 35), line("称", 200, 340, 237, 29), line("南京某某丝绸有限公司", 246, 343, 475, 24),
        line("注册资本1000万元整", 805, 337, 1062, 33),
        line("类", 94, 391, 131, 41), line("型", 200, 398, 238, 29), line("有限责任公司", 244, 398, 366, 29),
        line("成立日期2013年09月26日", 806, 397, 1097, 33),
        line("法定代表人", 96, 455, 241, 34), line("王某", 243, 458, 293, 28),
        line("营业期限", 808, 452, 952, 35), line("2013年09月26日至2033年09月25日", 957, 458, 1242, 25),
        line("经营范围", 96, 514, 234, 30), line("丝绸制品研发、设", 250, 512, 413, 29),
        line("刺绣工艺品、其", 620, 509, 761, 33),
        line("住", 808, 512, 844, 31), line("所", 916, 517, 950, 23), line("南京市某某区某某街24号", 957, 514, 1189, 30),
        line("家居用品、床上", 620, 532, 761, 30),
        line("礼品、丝织品、", 621, 556, 748, 29),
        line("须经批准后方可开展经营活动", 257, 588, 500, 21),
        line("登记机关", 908, 689, 1070, 35),
    ]
    out = business_licence.extract(lines)
    assert out.fields["scope"].value == "丝绸制品研发、设刺绣工艺品、其家居用品、床上礼品、丝织品、须经批准后方可开展经营活动。"
    assert out.fields["address"].value == "南京市某某区某某街24号"


def test_old_format_scope_wraps_back_to_its_labels_margin():
    # `经营范围：…` in one line; the next line starts under the label, not under the value
    lines = [
        line("企业法人营业执照", 320, 260, 1272, height=100),
        line("称", 415, 493, 477, 56), line("佛山某某电子科技有限公司", 472, 518, 860, 44),
        line("经营范围：电子产品、通讯设备的研发与销售；计算机软件开发；", 208, 868, 883, 29),
        line("技术咨询服务。", 212, 893, 400, 27), line("登记机关", 998, 888, 1152, 52),
        line("注册资本：实行注册资本认缴登记制度。", 207, 914, 632, 27),
    ]
    out = business_licence.extract(lines)
    assert out.fields["scope"].value == "电子产品、通讯设备的研发与销售；计算机软件开发；技术咨询服务。"
