"""Rule 8 capture flags (pipeline.capture_flags) on synthetic pages: each flag fires on its
defect, with its evidence box in uploaded pixels, and stays quiet on the clean look-alike."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PIL import Image
from stdnum.cn import uscc

from fixtures.generator import captures as cap
from pipeline import geometry as geo
from pipeline.capture_flags import capture_findings, measure_page
from pipeline.checks import decide, evaluate
from pipeline.document import DocumentWork, add_capture_flags
from pipeline.models import DocumentRef, DocumentResult, FieldValue, Quality, Submission
from rules import CaptureFlagThresholds, Thresholds, load_rules

from .conftest import text_page

T = load_rules().thresholds.capture_flags


def line(text: str, box: tuple[int, int, int, int]):
    x0, y0, x1, y1 = box
    return SimpleNamespace(text=text, confidence=0.99,
                           quad_original=np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32))


def lines_of(boxes: dict) -> list:
    return [line(text, tuple(int(v) for v in box)) for text, box in boxes.items()]


def flags(found) -> list[str]:
    return [f.flag for f in found.flags]


def page_with_rows(size=(1400, 1000), rows=12, top=80, seal=True, step=70):
    texts = [(f"经营范围第{i}行文字内容示例销售服务", 100, top + i * step) for i in range(rows)]
    return text_page(texts, size=size, seal=seal)


# ---------------------------------------------------------------------------------------------
# border_incomplete


def test_text_cut_by_the_bottom_edge_is_border_incomplete():
    page, boxes = page_with_rows(rows=14, top=60)
    cut = page[:930]  # the last row (y 970..1010) and most of the one before are off the image
    cut_lines = lines_of({t: (b[0], b[1], b[2], min(b[3], 929)) for t, b in boxes.items() if b[1] < 929})
    found = capture_findings(measure_page(cut), cut_lines, "business_licence", {}, T)
    assert "border_incomplete" in flags(found)
    finding = next(f for f in found.flags if f.flag == "border_incomplete")
    assert finding.sides == ["bottom"]
    x0, _, x1, y1 = finding.box
    assert y1 >= 925 and x0 < x1  # the cut line, in uploaded pixels


def test_clean_scan_touching_the_platen_edge_is_not_flagged():
    page, boxes = page_with_rows(rows=12, top=80)
    scan = page.copy()
    scan[:5, :] = (58, 58, 60)  # the scanner lid shows along the top and the left
    scan[:, :4] = (58, 58, 60)
    found = capture_findings(measure_page(scan), lines_of(boxes), "business_licence", {}, T)
    assert flags(found) == []


def test_line_near_but_not_through_the_edge_is_not_cut():
    page, boxes = page_with_rows(rows=12, top=80)
    last_bottom = max(b[3] for b in boxes.values())
    tight = page[: last_bottom + 6]  # a tight crop: 6 px of paper below the last line
    found = capture_findings(measure_page(tight), lines_of(boxes), "business_licence", {}, T)
    assert "border_incomplete" not in flags(found)


def test_photo_whose_sheet_runs_off_the_bottom_with_print_beside_it():
    page, boxes = page_with_rows(rows=31, top=70, step=30)
    margin = 120
    h, w = page.shape[:2]
    canvas = np.full((h + margin, w + 2 * margin, 3), (110, 112, 118), np.uint8)
    canvas[margin:, margin: margin + w] = page  # desk above and at the sides; the sheet runs off the bottom
    shifted = {t: (b[0] + margin, b[1] + margin, b[2] + margin, b[3] + margin) for t, b in boxes.items()}
    # the recogniser found no line through the edge (the cut falls between lines)
    kept = {t: b for t, b in shifted.items() if b[3] < canvas.shape[0] - 12}
    found = capture_findings(measure_page(canvas), lines_of(kept), "business_licence", {}, T)
    assert "border_incomplete" in flags(found)
    assert next(f for f in found.flags if f.flag == "border_incomplete").sides == ["bottom"]


def test_electronic_print_is_a_capture_kind_not_a_defect():
    page, boxes = page_with_rows(rows=10, top=80, seal=False)
    tinted = (page.astype(np.float32) * np.float32([0.93, 0.965, 0.985])).astype(np.uint8)  # BGR
    found = capture_findings(measure_page(tinted), lines_of(boxes), "business_licence", {}, T)
    assert found.kinds == ["electronic_licence"]
    assert flags(found) == []


# ---------------------------------------------------------------------------------------------
# occluded


def _photo_page() -> tuple[np.ndarray, dict]:
    page, boxes = page_with_rows(rows=12, top=80)
    margin = 100
    h, w = page.shape[:2]
    canvas = np.full((h + 2 * margin, w + 2 * margin, 3), (120, 122, 126), np.uint8)
    canvas[margin: margin + h, margin: margin + w] = page
    return canvas, {t: (b[0] + margin, b[1] + margin, b[2] + margin, b[3] + margin) for t, b in boxes.items()}


def test_finger_over_a_field_is_occluded_and_names_the_field():
    photo, boxes = _photo_page()
    rgb = Image.fromarray(photo[:, :, ::-1])
    with_finger = np.asarray(cap.finger(rgb, 7, tip=(0.35, 0.45)))[:, :, ::-1].copy()
    H, W = with_finger.shape[:2]
    name_box = (int(0.28 * W), int(0.42 * H), int(0.55 * W), int(0.5 * H))
    found = capture_findings(measure_page(with_finger), lines_of(boxes), "business_licence",
                             {"holder_name": name_box}, T)
    occ = [f for f in found.flags if f.flag == "occluded"]
    assert occ, flags(found)
    assert occ[0].fields == ["holder_name"]
    x0, y0, x1, _ = occ[0].box
    assert x0 < 0.35 * W < x1 and y0 < 0.5 * H  # the box holds the fingertip


def test_finger_over_an_unread_value_names_the_field_by_its_label():
    from pipeline.capture_flags import value_areas

    photo, boxes = _photo_page()
    rgb = Image.fromarray(photo[:, :, ::-1])
    with_finger = np.asarray(cap.finger(rgb, 7, tip=(0.35, 0.45)))[:, :, ::-1].copy()
    H, W = with_finger.shape[:2]
    # the 名称 label read just left of the fingertip; its value, under the finger, not read at all
    label_line = line("名称", (int(0.2 * W), int(0.44 * H), int(0.26 * W), int(0.47 * H)))
    far_line = line("住所", (int(0.6 * W), int(0.1 * H), int(0.66 * W), int(0.13 * H)))  # above the tip
    lines = lines_of(boxes) + [label_line, far_line]
    hidden = value_areas({"holder_name": "名称", "address": "住所", "credit_code": "统一社会信用代码"}, lines, (W, H))
    assert set(hidden) == {"holder_name"}  # address is no key field; no line holds the code's label
    x0, y0, x1, y1 = hidden["holder_name"]
    assert abs(x0 - 0.26 * W) < 2 and y0 < 0.44 * H and y1 > 0.47 * H and x1 > 0.5 * W
    found = capture_findings(measure_page(with_finger), lines, "business_licence", {}, T, hidden)
    (occ,) = [f for f in found.flags if f.flag == "occluded"]
    assert occ.fields == ["holder_name"] and "holder_name would be printed" in occ.message
    elsewhere = value_areas({"holder_name": "住所"}, lines, (W, H))  # a label far from the finger
    found = capture_findings(measure_page(with_finger), lines, "business_licence", {}, T, elsewhere)
    assert [f.fields for f in found.flags if f.flag == "occluded"] == [[]]


def test_no_finger_no_occlusion():
    photo, boxes = _photo_page()
    found = capture_findings(measure_page(photo), lines_of(boxes), "business_licence", {}, T)
    assert "occluded" not in flags(found)


# ---------------------------------------------------------------------------------------------
# glare


def _dim_photo() -> tuple[np.ndarray, dict]:
    photo, boxes = _photo_page()
    return (photo.astype(np.float32) * 0.85).astype(np.uint8), boxes


def test_glare_over_a_key_field_is_flagged():
    photo, boxes = _dim_photo()
    H, W = photo.shape[:2]
    rgb = Image.fromarray(photo[:, :, ::-1])
    glared = np.asarray(cap.glare(rgb, (0.3, 0.3), (0.1, 0.07)))[:, :, ::-1].copy()
    code_box = (int(0.22 * W), int(0.27 * H), int(0.38 * W), int(0.33 * H))
    found = capture_findings(measure_page(glared), lines_of(boxes), "business_licence", {"credit_code": code_box}, T)
    assert "glare" in found.kinds
    g = [f for f in found.flags if f.flag == "glare"]
    assert g and g[0].fields == ["credit_code"]


def test_glare_away_from_key_fields_is_only_a_capture_kind():
    photo, boxes = _dim_photo()
    rgb = Image.fromarray(photo[:, :, ::-1])
    glared = np.asarray(cap.glare(rgb, (0.3, 0.3), (0.1, 0.07)))[:, :, ::-1].copy()
    H, W = photo.shape[:2]
    far = (int(0.7 * W), int(0.8 * H), int(0.9 * W), int(0.85 * H))
    found = capture_findings(measure_page(glared), lines_of(boxes), "business_licence", {"credit_code": far}, T)
    assert "glare" in found.kinds and "glare" not in flags(found)


def test_evenly_lit_photo_has_no_glare():
    photo, boxes = _dim_photo()
    found = capture_findings(measure_page(photo), lines_of(boxes), "business_licence", {}, T)
    assert "glare" not in found.kinds


# ---------------------------------------------------------------------------------------------
# screenshot, specimen


def test_phone_screenshot_with_status_bar_is_flagged():
    page, _ = page_with_rows(rows=8, top=80, seal=False)
    shot = np.asarray(cap.app_screenshot(Image.fromarray(page[:, :, ::-1]), 3))[:, :, ::-1].copy()
    lines = [line("9:41", (40, 40, 140, 85)), line("87%", (900, 40, 1020, 85)), line("电子营业执照", (390, 160, 690, 225))]
    found = capture_findings(measure_page(shot), lines, "business_licence", {}, T)
    assert "screenshot" in flags(found) and "screenshot" in found.kinds
    assert "electronic_licence" not in found.kinds  # the screenshot is what it is reported as


def test_a_time_printed_on_a_scan_is_not_a_status_bar():
    page, boxes = page_with_rows(rows=8, top=80)
    lines = lines_of(boxes) + [line("10:30", (600, 20, 700, 55))]
    found = capture_findings(measure_page(page), lines, "business_licence", {}, T)
    assert "screenshot" not in flags(found)


@pytest.mark.parametrize("texts, expected", [
    (["营业执照", "样本"], True),
    (["名称 XXXXXXXXXX有限公司"], True),
    (["统一社会信用代码", "XXXXXXXXXXXXXXXXXX"], True),
    (["经营范围：检测样本的收集与运输；医学检验服务"], False),  # 样本 in prose is not a specimen mark
    (["名称 杭州鲜果时光食品有限公司", "类型 有限责任公司"], False),
])
def test_specimen_marks(texts, expected):
    lines = [line(t, (100, 100 + 60 * i, 600, 140 + 60 * i)) for i, t in enumerate(texts)]
    found = capture_findings(None, lines, "business_licence", {}, T)
    assert ("specimen" in flags(found)) is expected


# ---------------------------------------------------------------------------------------------
# as data, and into the verdict


def test_thresholds_are_validated_data():
    assert isinstance(load_rules().thresholds.capture_flags, CaptureFlagThresholds)
    with pytest.raises(ValueError):
        CaptureFlagThresholds(occlusion_min_area_sharee=0.1)
    with pytest.raises(ValueError):
        CaptureFlagThresholds(border_min_paper_share=1.5)
    assert "capture_flags" in Thresholds.model_fields


def test_flags_reach_the_verdict_with_evidence_and_send_it_to_review():
    page, boxes = page_with_rows(rows=14, top=60)
    cut = page[:930]
    reading = SimpleNamespace(page=1, size=(1400, 930), transform=geo.Transform.identity((1400, 930)),
                              lines=[SimpleNamespace(text=t, confidence=0.99, quad=ln.quad_original,
                                                             quad_original=ln.quad_original)
                                             for t, ln in ((t, line(t, (b[0], b[1], b[2], min(b[3], 929))))
                                                           for t, b in boxes.items() if b[1] < 929)])
    # the title read above the rows: the sheet's top is in the frame (only the bottom is cut)
    title = line("营业执照", (500, 8, 900, 52))
    reading.lines.insert(0, SimpleNamespace(text=title.text, confidence=0.99, quad=title.quad_original,
                                            quad_original=title.quad_original))
    code = "91330106MA2H3B4C5" + uscc.calc_check_digit("91330106MA2H3B4C5")
    result = DocumentResult(file="docs/bl.jpg", doc_type="business_licence", doc_type_confidence=0.99, pages=1,
                            quality=Quality(ok=True, sharpness=400.0, width=1400, height=930, skew_deg=0.0),
                            fields={"holder_name": FieldValue(value="杭州鲜果时光食品有限公司", confidence=0.99, page=1),
                                    "credit_code": FieldValue(value=code, confidence=0.99, page=1),
                                    "valid_until": FieldValue(value="long_term", confidence=0.99, page=1)})
    add_capture_flags(result, reading, measure_page(cut), load_rules())
    assert any(f.startswith("border_incomplete") for f in result.quality.flags)
    ev = result.quality.evidence[0]
    assert ev.flag == "border_incomplete" and ev.sides == ["bottom"] and len(ev.box) == 4
    sub = Submission.model_validate({"id": "S", "shop": {"name": "s", "company": "杭州鲜果时光食品有限公司",
                                                          "credit_code": code},
                                     "product": {"title": "t", "category": "general"}, "documents": [{"file": "docs/bl.jpg"}]})
    work = DocumentWork(ref=DocumentRef(file="docs/bl.jpg"), result=result)
    evaluation = evaluate(sub, [work], load_rules(), dt.date(2026, 11, 27))
    assert decide(evaluation) == "review"
    assert "AUTHENTICITY_FLAG" in {r.code for r in evaluation.reasons}
    dumped = result.model_dump(mode="json")["quality"]["evidence"][0]
    assert dumped["box"][0] == [int(v) for v in dumped["box"][0]]


def test_measure_page_accepts_grey_images():
    page, _ = page_with_rows(rows=6, top=80)
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    signals = measure_page(grey)
    assert signals.size == (1400, 1000) and signals.skin == []


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 900, 3), (5, 5, 3)])
def test_measure_page_on_a_dot_or_a_sliver_is_quiet(shape):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "mean of empty slice" was printed on a 1×1 upload
        signals = measure_page(np.full(shape, 255, dtype=np.uint8))
    assert signals.size == (shape[1], shape[0]) and signals.sides == {}
