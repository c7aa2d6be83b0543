"""Every transform keeps its inverse: boxes map back to the uploaded image (angles × shapes)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import geometry as geo

SHAPES = [(1654, 2339), (2339, 1654), (640, 480), (333, 1001)]


def _points(size):
    w, h = size
    return np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1], [w / 3, h / 5]], dtype=np.float32)


@pytest.mark.parametrize("size", SHAPES)
@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_quarter_turn_matches_numpy_and_inverts(size, turns):
    w, h = size
    image = np.zeros((h, w), dtype=np.uint8)
    x, y = w // 3, h // 5
    image[y, x] = 255
    t = geo.rotate_quarter(size, turns)
    rotated = np.rot90(image, k=-turns)  # numpy rotates counter-clockwise for positive k
    assert rotated.shape[1::-1] == t.size
    tx, ty = t.apply([[x, y]])[0]
    assert rotated[round(ty), round(tx)] == 255
    assert np.allclose(t.warp(image), rotated)
    assert np.allclose(t.inverse().apply(t.apply(_points(size))), _points(size), atol=1e-3)


@pytest.mark.parametrize("size", SHAPES)
@pytest.mark.parametrize("degrees", [-15, -7.5, -1, 0.4, 3, 12])
def test_small_rotation_round_trip_and_canvas(size, degrees):
    t = geo.rotate_small(size, degrees)
    pts = _points(size)
    moved = t.apply(pts)
    # the enlarged canvas holds every corner of the page
    assert (moved[:, 0] >= -1).all() and (moved[:, 0] <= t.size[0] + 1).all()
    assert (moved[:, 1] >= -1).all() and (moved[:, 1] <= t.size[1] + 1).all()
    assert np.allclose(t.inverse().apply(moved), pts, atol=1e-2)


@pytest.mark.parametrize("size", SHAPES)
def test_chain_of_scale_perspective_turn_and_deskew_inverts(size):
    w, h = size
    corners = np.array([[w * 0.1, h * 0.05], [w * 0.92, h * 0.1], [w * 0.95, h * 0.9], [w * 0.05, h * 0.97]],
                       dtype=np.float32)
    shrink = geo.scale(size, 0.5)
    chain = shrink.then(geo.perspective(shrink.size, shrink.apply(corners), (800, 600)))
    chain = chain.then(geo.rotate_quarter(chain.size, 1))
    chain = chain.then(geo.rotate_small(chain.size, 4.0))
    pts = _points(size)
    assert np.allclose(chain.inverse().apply(chain.apply(pts)), pts, atol=0.05)
    # the chosen outline lands on the corners of the rectified (then turned) page
    rect = shrink.then(geo.perspective(shrink.size, shrink.apply(corners), (800, 600)))
    assert np.allclose(rect.apply(corners), [[0, 0], [799, 0], [799, 599], [0, 599]], atol=0.5)


def test_order_quad_from_any_start():
    quad = np.array([[10, 10], [110, 12], [108, 40], [9, 38]], dtype=np.float32)
    for shift in range(4):
        assert np.allclose(geo.order_quad(np.roll(quad, shift, axis=0)), quad)


def test_crop_quad_caps_height_and_keeps_aspect():
    image = np.full((400, 1200, 3), 255, dtype=np.uint8)
    quad = np.array([[100, 100], [1100, 100], [1100, 300], [100, 300]], dtype=np.float32)
    strip = geo.crop_quad(image, quad, max_height=50)
    assert strip.shape[0] == 50
    assert abs(strip.shape[1] - 250) <= 2


def test_enclosing_quad_covers_pieces():
    a = np.array([[0, 0], [100, 0], [100, 20], [0, 20]], dtype=np.float32)
    b = np.array([[0, 30], [60, 30], [60, 50], [0, 50]], dtype=np.float32)
    q = geo.enclosing_quad([a, b])
    assert q[:, 0].min() <= 0.5 and q[:, 0].max() >= 99.5 and q[:, 1].min() <= 0.5 and q[:, 1].max() >= 49.5
