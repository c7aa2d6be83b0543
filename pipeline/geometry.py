"""Invertible geometric transforms between the uploaded image and the working frame.

Every step that changes page geometry (downscaling, rotation by quarter turns, perspective
rectification, deskew) is a 3×3 homography. They compose into one `Transform`, whose inverse maps
a box found in the working frame back to the pixels of the uploaded image — so a field box in the
verdict lands on the image the reviewer sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Quad = np.ndarray  # (4, 2) float32: top-left, top-right, bottom-right, bottom-left


@dataclass(frozen=True)
class Transform:
    """A homography `matrix` from a source frame to a target frame of size `size` (w, h)."""

    matrix: np.ndarray
    size: tuple[int, int]
    source_size: tuple[int, int]

    @classmethod
    def identity(cls, size: tuple[int, int]) -> Transform:
        return cls(np.eye(3), size, size)

    def then(self, other: Transform) -> Transform:
        """This transform followed by `other` (which must start in this one's target frame)."""
        return Transform(other.matrix @ self.matrix, other.size, self.source_size)

    def inverse(self) -> Transform:
        return Transform(np.linalg.inv(self.matrix), self.source_size, self.size)

    def apply(self, points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        homogeneous = np.hstack([pts, np.ones((len(pts), 1))]) @ self.matrix.T
        return (homogeneous[:, :2] / homogeneous[:, 2:3]).astype(np.float32)

    def warp(self, image: np.ndarray) -> np.ndarray:
        """Render `image` (in the source frame) into the target frame."""
        w, h = self.size
        scale = _scale_of(self.matrix)
        interpolation = cv2.INTER_AREA if scale < 0.8 else cv2.INTER_LINEAR
        if _is_affine(self.matrix):
            return cv2.warpAffine(image, self.matrix[:2], (w, h), flags=interpolation,
                                  borderMode=cv2.BORDER_REPLICATE)
        return cv2.warpPerspective(image, self.matrix, (w, h), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)


def _is_affine(m: np.ndarray) -> bool:
    return bool(np.allclose(m[2], [0.0, 0.0, 1.0]))


def _scale_of(m: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(m[:2, :2]))))


def scale(size: tuple[int, int], factor: float) -> Transform:
    w, h = size
    new = (max(1, round(w * factor)), max(1, round(h * factor)))
    m = np.diag([new[0] / w, new[1] / h, 1.0])
    return Transform(m, new, size)


def rotate_quarter(size: tuple[int, int], quarter_turns_cw: int) -> Transform:
    """Rotate a page by 90° × `quarter_turns_cw` clockwise (exact, no resampling loss)."""
    w, h = size
    k = quarter_turns_cw % 4
    if k == 0:
        m = np.eye(3)
        new = (w, h)
    elif k == 1:  # (x, y) -> (h - 1 - y, x)
        m = np.array([[0, -1, h - 1], [1, 0, 0], [0, 0, 1]], dtype=np.float64)
        new = (h, w)
    elif k == 2:
        m = np.array([[-1, 0, w - 1], [0, -1, h - 1], [0, 0, 1]], dtype=np.float64)
        new = (w, h)
    else:  # (x, y) -> (y, w - 1 - x)
        m = np.array([[0, 1, 0], [-1, 0, w - 1], [0, 0, 1]], dtype=np.float64)
        new = (h, w)
    return Transform(m, new, size)


def rotate_small(size: tuple[int, int], degrees: float) -> Transform:
    """Rotate by `degrees` counter-clockwise about the centre, enlarging the canvas to fit."""
    w, h = size
    m2 = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
    cos, sin = abs(m2[0, 0]), abs(m2[0, 1])
    new_w, new_h = round(h * sin + w * cos), round(h * cos + w * sin)
    m2[0, 2] += new_w / 2.0 - w / 2.0
    m2[1, 2] += new_h / 2.0 - h / 2.0
    return Transform(np.vstack([m2, [0, 0, 1]]), (new_w, new_h), size)


def perspective(size: tuple[int, int], corners: Quad, out_size: tuple[int, int]) -> Transform:
    """Map the quadrilateral `corners` (tl, tr, br, bl) onto an upright rectangle `out_size`."""
    w, h = out_size
    target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(np.asarray(corners, dtype=np.float32), target)
    return Transform(m.astype(np.float64), out_size, size)


def order_quad(points: np.ndarray) -> Quad:
    """Order four points as top-left, top-right, bottom-right, bottom-left."""
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen, starting near the left
    start = int(np.argmin(pts.sum(axis=1)))  # top-left has the smallest x + y
    return np.roll(pts, -start, axis=0)


def quad_to_box(quad: Quad) -> list[list[int]]:
    return [[round(float(x)), round(float(y))] for x, y in np.asarray(quad).reshape(4, 2)]


def crop_quad(image: np.ndarray, quad: Quad, max_height: int = 64) -> np.ndarray:
    """Cut a text line's quadrilateral out of `image` as an upright strip.

    The strip is taken straight from the uploaded pixels (one interpolation), scaled so its
    height does not exceed `max_height`: the recogniser works at 48 px anyway.
    """
    q = np.asarray(quad, dtype=np.float32)
    width = max(np.linalg.norm(q[0] - q[1]), np.linalg.norm(q[3] - q[2]))
    height = max(np.linalg.norm(q[0] - q[3]), np.linalg.norm(q[1] - q[2]))
    factor = min(1.0, max_height / max(height, 1.0))
    out_w, out_h = max(2, round(width * factor)), max(2, round(height * factor))
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(q, target)
    flags = cv2.INTER_AREA if factor < 0.5 else cv2.INTER_CUBIC
    if factor < 0.5:
        # INTER_AREA is not supported by warpPerspective: warp at full size, then shrink.
        full_w, full_h = max(2, round(width)), max(2, round(height))
        t_full = np.array([[0, 0], [full_w, 0], [full_w, full_h], [0, full_h]], dtype=np.float32)
        strip = cv2.warpPerspective(image, cv2.getPerspectiveTransform(q, t_full), (full_w, full_h),
                                    flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return cv2.resize(strip, (out_w, out_h), interpolation=flags)
    return cv2.warpPerspective(image, m, (out_w, out_h), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def quad_angle_deg(quad: Quad) -> float:
    """Angle of a line (mean of its top and bottom edges) in degrees; positive = falls to the right
    on screen (image y points down)."""
    q = np.asarray(quad, dtype=np.float64)
    dx, dy = (q[1] - q[0]) + (q[2] - q[3])
    return float(np.degrees(np.arctan2(dy, dx)))


def enclosing_quad(quads: list[Quad]) -> Quad:
    """The smallest rotated rectangle around several quads (a value that spans lines)."""
    if len(quads) == 1:
        return np.asarray(quads[0], dtype=np.float32)
    pts = np.vstack([np.asarray(q, dtype=np.float32).reshape(-1, 2) for q in quads])
    return order_quad(cv2.boxPoints(cv2.minAreaRect(pts)))
