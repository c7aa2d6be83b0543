"""Rule 8 signals measured on the page image: a grey photocopy, a screen recapture (翻拍).

Each returns a number the thresholds in `rules/thresholds.yaml` turn into flags; the flags only
ever send a verdict to review.
"""

from __future__ import annotations

import cv2
import numpy as np


def _small(image: np.ndarray, long_side: int = 800) -> np.ndarray:
    h, w = image.shape[:2]
    factor = long_side / max(h, w)
    if factor < 1:
        image = cv2.resize(image, (max(1, int(w * factor)), max(1, int(h * factor))), interpolation=cv2.INTER_AREA)
    return image


def rainbow_tint(image: np.ndarray) -> tuple[float, int]:
    """(share of the bright background that is tinted, number of hue bands with ≥5% of it).

    Photographing a screen lays colour moiré over the page: a rainbow of faint tints across what
    should be white paper. Paper under lamp light is tinted one way; seals and borders are red.
    """
    if image.ndim == 2:
        return 0.0, 0
    hsv = cv2.cvtColor(_small(image), cv2.COLOR_BGR2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    bright = val > 150
    tinted = bright & (sat > 25) & (sat < 140)
    share = float(tinted.sum()) / max(1, int(bright.sum()))
    hist = np.bincount((hue[tinted] // 15).ravel(), minlength=12)[:12]
    bands = int((hist / max(1, hist.sum()) > 0.05).sum())
    return round(share, 3), bands
