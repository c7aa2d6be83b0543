"""The cascade recogniser: tiny reads every line, small again where a rule may rest on the line."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from pipeline.ocr.cascade import TINY_MODEL_ID, FirstRead, route
from pipeline.settings import CascadeOptions, RapidOcrOptions, Settings
from tests.conftest import text_page

SURE = 0.99


def quad(x0, y0, x1, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def routed(lines: list[tuple[str, float, tuple]], **options) -> dict[str, str | None]:
    reads = [FirstRead(text, SURE, low) for text, low, _ in lines]
    why = route(reads, [quad(*box) for _, _, box in lines], CascadeOptions(enabled=True, **options))
    return {text: w for (text, _, _), w in zip(lines, why)}


def test_what_the_small_model_reads_again_and_why():
    got = routed([
        ("营业执照", SURE, (500, 20, 800, 80)),                          # a title the classifier needs
        ("名称", SURE, (100, 200, 180, 240)),                             # a rule-bearing field's label…
        ("杭州鲜果时光食品", SURE, (220, 200, 600, 240)),                 # …and its value right of it
        ("法定代表人", SURE, (100, 300, 260, 340)),
        ("周若兰", SURE, (100, 350, 200, 390)),                           # the row under a label
        ("一般项目：家居用品销售；日用百货销售；家具销售", SURE, (100, 600, 900, 640)),  # running text
        ("一般项目：家居用品销售；日用百货销售；家具销售", 0.42, (100, 700, 900, 740)),  # one unsure character
        ("91510107MA59G2WX04", SURE, (100, 800, 500, 840)),               # looks like a code
        ("2019年07月22日", SURE, (100, 900, 400, 940)),                    # looks like a date
        ("成都青禾家居用品有限公司", SURE, (100, 1000, 500, 1040)),        # looks like an entity name
    ])
    assert got == {"营业执照": "label", "名称": "label", "杭州鲜果时光食品": "value", "法定代表人": "label",
                   "周若兰": "value", "一般项目：家居用品销售；日用百货销售；家具销售": "low",
                   "91510107MA59G2WX04": "pattern", "2019年07月22日": "pattern", "成都青禾家居用品有限公司": "pattern"}


def test_the_lowest_character_decides_not_the_mean():
    # 0.99/0.98/0.12/0.99 averages 0.77: the mean hides the one wrong character, the minimum does not
    read = FirstRead("家居用品销售", confidence=0.77, min_char_prob=0.12)
    assert route([read], [quad(0, 0, 200, 40)], CascadeOptions(enabled=True, min_char_prob=0.5)) == ["low"]
    sure = FirstRead("家居用品销售", confidence=0.77, min_char_prob=0.95)
    assert route([sure], [quad(0, 0, 200, 40)], CascadeOptions(enabled=True, min_char_prob=0.5)) == [None]


def test_a_first_pass_fields_label_anchors_no_value_area():
    # 经营范围 (scope) is read by the first pass alone: the scope rows under it are not re-read
    got = routed([("经营范围", SURE, (100, 100, 260, 140)), ("家居用品销售；日用百货销售", SURE, (100, 150, 700, 190))])
    assert got["家居用品销售；日用百货销售"] is None
    # with scope counted as rule-bearing, they are
    got = routed([("经营范围", SURE, (100, 100, 260, 140)), ("家居用品销售；日用百货销售", SURE, (100, 150, 700, 190))],
                 first_pass_fields=[])
    assert got["家居用品销售；日用百货销售"] == "value"


def test_each_rule_is_a_switch():
    lines = [("名称", SURE, (100, 200, 180, 240)), ("杭州鲜果时光食品", SURE, (220, 200, 600, 240)),
             ("2019年07月22日", SURE, (100, 900, 400, 940))]
    got = routed(lines, label_lines=False, title_lines=False, cue_lines=False, value_area=False, patterns={})
    assert set(got.values()) == {None}


def test_options_are_checked():
    with pytest.raises(ValidationError):
        CascadeOptions(enabled=True, min_char_probability=0.5)  # a misspelt option is an error, not ignored
    with pytest.raises(ValidationError):
        CascadeOptions(patterns={"code": "[0-9"})  # a pattern that is no regex
    assert Settings(ocr={"cascade": {"enabled": True}}).ocr.cascade.enabled


@pytest.fixture(scope="module")
def cascade_engine():
    from pipeline.ocr.base import load_engine

    return load_engine(RapidOcrOptions(cascade=CascadeOptions(enabled=True)))


@pytest.mark.ocr
def test_every_line_says_which_model_read_it(cascade_engine):
    from pipeline.preprocess import read_page
    from pipeline.settings import PreprocessOptions

    image, _ = text_page([("营业执照", 560, 60), ("名称 成都青禾家居用品有限公司", 100, 220),
                          ("统一社会信用代码 91510107MA59G2WX04", 100, 320),
                          ("一般项目：家居用品销售；日用百货销售；家具销售", 100, 600)], size=(1400, 800))
    page = read_page(image, cascade_engine, PreprocessOptions())
    models = {ln.text.replace(" ", ""): ln.model for ln in page.lines}
    assert models["营业执照"] == cascade_engine.rec_model  # a title: read again by the small model
    assert any("91510107MA59G2WX04" in t and m == cascade_engine.rec_model for t, m in models.items())
    scope = [m for t, m in models.items() if t.startswith("一般项目")]
    assert scope == [TINY_MODEL_ID], models  # running text a sure first pass read: kept
    assert "成都青禾家居用品有限公司" in "".join(models)


@pytest.mark.ocr
def test_tiny_reads_a_clear_line_and_reports_its_weakest_character(cascade_engine):
    from pipeline import geometry as geo

    image, boxes = text_page([("家居用品销售", 100, 100)], size=(600, 200))
    x0, y0, x1, y1 = boxes["家居用品销售"]
    (read,) = cascade_engine.first_pass([geo.crop_quad(image, quad(x0 - 6, y0 - 6, x1 + 6, y1 + 6))])
    assert read.text == "家居用品销售" and 0 < read.min_char_prob <= read.confidence <= 1


@pytest.mark.ocr
def test_the_cascade_is_part_of_the_reading_key(engine, cascade_engine):
    from operations.backlog import reading_key

    off = reading_key(engine, Settings())
    on = reading_key(cascade_engine, Settings(ocr={"cascade": {"enabled": True}}))
    assert off != on and any(m.startswith(TINY_MODEL_ID) for m in cascade_engine.model_ids)
    assert not any(m.startswith(TINY_MODEL_ID) for m in engine.model_ids)
