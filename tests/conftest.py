"""Shared fixtures. The OCR engine is loaded once per test process (as in production)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SUBMISSIONS = FIXTURES / "submissions"
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


@pytest.fixture(scope="session")
def engine():
    from pipeline.ocr import get_engine
    from pipeline.settings import get_settings

    return get_engine(get_settings().ocr)


def text_page(lines: list[tuple[str, int, int]], size=(1400, 1000), font_size=40, seal=False
              ) -> tuple[np.ndarray, dict]:
    """A white page with `lines` of (text, x, y) drawn at known places; returns BGR + their boxes.

    `seal` adds a red ring in the bottom-right corner, as an original (not a grey copy) has."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    if seal:
        w, h = size
        draw.ellipse((w - 330, h - 330, w - 30, h - 30), outline=(220, 30, 30), width=14)
    font = ImageFont.truetype(FONT, font_size)
    boxes = {}
    for text, x, y in lines:
        draw.text((x, y), text, fill="black", font=font)
        boxes[text] = draw.textbbox((x, y), text, font=font)
    return np.asarray(img)[:, :, ::-1].copy(), boxes


def write_submission(folder: Path, documents: list[dict], *, company="杭州鲜果时光食品有限公司",
                     credit_code=None, category="general", brand=None, sid="SUB-T") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shop = {"name": "测试店", "company": company}
    if credit_code:
        shop["credit_code"] = credit_code
    sub = {"id": sid, "shop": shop, "product": {"title": "t", "category": category, "brand": brand},
           "documents": documents}
    path = folder / "submission.json"
    path.write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")
    return path


def fixture_submissions() -> list[Path]:
    return sorted(SUBMISSIONS.glob("*/submission.json"))
