"""CTC support (pipeline.ocr.ctc): the forward algorithm against brute force, and what it tells apart."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pipeline.ocr.ctc import BLANK, TextPosterior, log_likelihood, support, top_k

ALPHABET = [BLANK, "牧", "教", "恩", "思", "乳"]


def posterior(rows: list[list[float]]) -> TextPosterior:
    """A posterior over ALPHABET from full probability rows (k = the whole alphabet)."""
    return top_k(np.asarray(rows, dtype=np.float32), ALPHABET, k=len(ALPHABET))


def brute_force(rows: list[list[float]], text: str) -> float:
    """P(text) by summing every path of len(rows) steps that collapses to `text`."""
    total = 0.0
    for path in itertools.product(range(len(ALPHABET)), repeat=len(rows)):
        collapsed, last = [], None
        for i in path:
            if i != last and i != 0:
                collapsed.append(ALPHABET[i])
            last = i
        if "".join(collapsed) == text:
            total += math.prod(rows[t][i] for t, i in enumerate(path))
    return total


ROWS = [
    [0.1, 0.3, 0.5, 0.05, 0.03, 0.02],
    [0.6, 0.1, 0.1, 0.1, 0.05, 0.05],
    [0.1, 0.05, 0.05, 0.3, 0.45, 0.05],
    [0.2, 0.05, 0.05, 0.1, 0.1, 0.5],
]


@pytest.mark.parametrize("text", ["牧恩乳", "教思乳", "牧", "乳乳", "恩思", "牧恩乳乳"])
def test_forward_algorithm_equals_the_sum_over_every_path(text):
    expected = brute_force(ROWS, text)
    got = log_likelihood(posterior(ROWS), text, floor=1e-12)
    if expected == 0:
        assert got < math.log(1e-10)
    else:
        assert math.isclose(math.exp(got), expected, rel_tol=1e-5)


def test_greedy_reading_and_its_confidence():
    p = posterior(ROWS)
    assert p.reading == "教思乳"
    assert math.isclose(p.confidence, (0.5 + 0.45 + 0.5) / 3, rel_tol=1e-6)


def test_support_keeps_look_alikes_apart_from_other_text():
    p = posterior(ROWS)
    assert support(p, "教思乳") == 1.0  # the reading itself
    look_alike = support(p, "牧恩乳")  # the second choice at two steps
    other = support(p, "恩恩恩")  # nothing like it at the first step
    assert 0.3 < look_alike < 1.0
    assert other < look_alike / 3


def test_text_may_lie_within_the_strip():
    p = posterior(ROWS)
    assert support(p, "思乳") == 1.0  # the end of the reading
    assert log_likelihood(p, "思乳", within=True) > log_likelihood(p, "思乳")


def test_text_too_long_for_the_strip_or_empty():
    p = posterior(ROWS)
    assert log_likelihood(p, "牧教恩思乳") == -math.inf  # 5 characters need at least 5 steps... and blanks
    assert support(p, "") == 0.0


def test_engine_posteriors_agree_with_its_reading(engine):
    from PIL import Image, ImageDraw, ImageFont

    from tests.conftest import FONT

    im = Image.new("RGB", (520, 64), "white")
    ImageDraw.Draw(im).text((8, 8), "黑龙江牧恩乳业有限公司", fill="black", font=ImageFont.truetype(FONT, 40))
    strip = np.asarray(im)[:, :, ::-1].copy()
    (text, conf), = engine.recognize([strip])
    (post,) = engine.recognize_posteriors([strip])
    assert post.reading == text == "黑龙江牧恩乳业有限公司"
    assert abs(post.confidence - conf) < 0.02
    assert support(post, "黑龙江牧恩乳业有限公司") == 1.0
    # two of ten characters absent: far under the support at which a seal names a party (0.3)
    assert support(post, "吉林牧恩乳业有限公司") < 0.1


def test_confident_substitutions_name_the_characters_read_surely_as_others():
    from pipeline.ocr.ctc import confident_substitutions

    p = posterior(ROWS)  # reads 教思乳 at 0.5, 0.45, 0.5
    assert confident_substitutions(p, "牧思乳", confident=0.9) == []  # 教 read, but not surely
    assert confident_substitutions(p, "牧思乳", confident=0.5) == [("教", "牧", 0.5)]
    assert confident_substitutions(p, "教思乳", confident=0.1) == []
