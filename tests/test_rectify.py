"""Perspective rectification of a photographed page: outline found, boxes still land on the photo."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.preprocess import find_page_outline, read_page
from pipeline.settings import PreprocessOptions
from tests.conftest import text_page

LINES = [("营业执照", 500, 60), ("名称杭州鲜果时光食品有限公司", 120, 220), ("法定代表人张三丰", 120, 340),
         ("成立日期2018年03月15日", 120, 460), ("住所浙江省杭州市西湖区文三路100号", 120, 580)]
KEY = "名称杭州鲜果时光食品有限公司"


def photographed(page: np.ndarray, corners: np.ndarray, size=(1800, 1400)) -> tuple[np.ndarray, np.ndarray]:
    """`page` warped onto `corners` of a dark, textured background; returns the photo and the homography."""
    h, w = page.shape[:2]
    src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    rng = np.random.default_rng(0)
    background = (rng.integers(40, 90, (size[1], size[0], 1)) * np.ones((1, 1, 3))).astype(np.uint8)
    warped = cv2.warpPerspective(page, m, size)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, size)
    photo = np.where(mask[:, :, None] > 0, warped, background)
    return photo, m


CORNERS = np.array([[260, 180], [1560, 240], [1620, 1240], [200, 1180]], dtype=np.float32)


def test_outline_of_a_photographed_page_is_found():
    page, _ = text_page(LINES, size=(1400, 1000), seal=True)
    photo, _ = photographed(page, CORNERS)
    outline = find_page_outline(photo)
    assert outline is not None
    assert np.abs(outline - CORNERS).max() < 12


def test_a_scan_that_fills_the_frame_is_left_alone():
    page, _ = text_page(LINES, size=(1400, 1000))
    assert find_page_outline(page) is None


@pytest.mark.ocr
def test_rectified_photo_reads_and_boxes_land_on_the_photo(engine):
    page, boxes = text_page(LINES, size=(1400, 1000), seal=True)
    photo, m = photographed(page, CORNERS)
    reading = read_page(photo, engine, PreprocessOptions(work_long_side=1800))
    assert reading.rectified
    texts = [ln.text.replace(" ", "") for ln in reading.lines]
    assert KEY in texts
    x0, y0, x1, y1 = boxes[KEY]
    expected = cv2.perspectiveTransform(np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32), m)[0]
    got = reading.lines[texts.index(KEY)].quad_original
    assert np.abs(got.mean(axis=0) - expected.mean(axis=0)).max() < 20
