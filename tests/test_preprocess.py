"""Orientation, deskew and box mapping with the real OCR engine, over turns × skews × page shapes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline import geometry as geo
from pipeline.preprocess import read_page, sharpness_of
from pipeline.settings import PreprocessOptions
from tests.conftest import text_page

pytestmark = pytest.mark.ocr

LINES = [("营业执照统一社会信用代码", 120, 100), ("名称杭州鲜果时光食品有限公司", 120, 220),
         ("法定代表人张三丰", 120, 340), ("成立日期2018年03月15日", 120, 460),
         ("住所浙江省杭州市西湖区文三路100号", 120, 580), ("经营范围食品销售；农产品零售", 120, 700)]
KEY = "名称杭州鲜果时光食品有限公司"


def _rotate(image, degrees):
    h, w = image.shape[:2]
    t = geo.rotate_small((w, h), degrees)
    return cv2.warpAffine(image, t.matrix[:2], t.size, borderValue=(255, 255, 255)), t


@pytest.mark.parametrize("page_size", [(1400, 900), (1100, 1500)])
@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_orientation_and_boxes_map_back(engine, page_size, turns):
    image, boxes = text_page(LINES, size=page_size)
    rotated = np.ascontiguousarray(np.rot90(image, k=-turns))  # turned `turns` quarter turns clockwise
    reading = read_page(rotated, engine, PreprocessOptions())
    assert (reading.quarter_turns + turns) % 4 == 0
    texts = [ln.text.replace(" ", "") for ln in reading.lines]
    assert KEY in texts
    line = reading.lines[texts.index(KEY)]
    x0, y0, x1, y1 = boxes[KEY]
    expected = geo.rotate_quarter(page_size, turns).apply([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    got = line.quad_original
    # the box, in the uploaded (rotated) image's pixels, covers the printed text
    assert np.abs(got.mean(axis=0) - expected.mean(axis=0)).max() < 25
    for corner in range(4):
        assert np.linalg.norm(got[corner] - expected[corner]) < 40, (got, expected)


@pytest.mark.parametrize("degrees", [-6.0, -2.0, 3.0, 8.0])
def test_small_skew_is_measured_and_boxes_follow_the_slant(engine, degrees):
    image, boxes = text_page(LINES)
    skewed, t = _rotate(image, degrees)
    reading = read_page(skewed, engine, PreprocessOptions())
    assert reading.quarter_turns == 0
    # the page was turned by `degrees` counter-clockwise, so its lines fall to the left: we undo it
    assert abs(reading.skew_deg + degrees) < 1.0, reading.skew_deg
    texts = [ln.text.replace(" ", "") for ln in reading.lines]
    assert KEY in texts
    x0, y0, x1, y1 = boxes[KEY]
    expected = t.apply([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    got = reading.lines[texts.index(KEY)].quad_original
    assert np.abs(got.mean(axis=0) - expected.mean(axis=0)).max() < 25


def test_blur_lowers_sharpness():
    image, _ = text_page(LINES)
    assert sharpness_of(cv2.GaussianBlur(image, (0, 0), 3)) < sharpness_of(image) / 5


def test_blank_page_reads_no_lines(engine):
    reading = read_page(np.full((800, 600, 3), 255, dtype=np.uint8), engine, PreprocessOptions())
    assert reading.lines == [] and reading.mean_confidence is None
