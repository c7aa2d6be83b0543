"""Sample a video's frames: run as a child process by pipeline.media.videos, never imported by it.

    python pipeline/media/decode.py VIDEO OUT_DIR LIMITS_JSON

Decodes VIDEO with OpenCV's FFmpeg backend (the one inside the pinned opencv-python-headless wheel:
H.264, HEVC, VP8/VP9, AV1, MPEG-4 in MP4, MOV, WEBM, MKV), keeps a frame at least every
`sample_every_s` seconds and the first frame after each cut or appearance (a scene change; or a few
blocks changing a lot between two frames and then staying — a sticker, a banner —, judged on
downscaled greyscale copies; at most one such frame per `min_event_gap_s`), drops kept frames
near-identical to the previous kept one,
writes them to OUT_DIR as PNG and prints one JSON manifest on stdout. A problem is a manifest too:
{"ok": false, "clear": bool, "error": "..."} — `clear` when the file is plainly not a usable video
(cannot be opened, no frame, cut short), not when it merely exceeds a limit.

It runs in its own process so that the caller can kill it at a deadline: a decoder stuck on a
hostile file must not hang a worker. It imports only OpenCV and numpy (cheap to start).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np

THUMB_WIDTH = 160  # the downscaled copy cuts and near-duplicates are judged on
CUT_WIDTH = 64
# Frames looked at for cuts and appearances, per second of video: every frame of a 10–15 fps video,
# every second one at 30 fps (the others are decoded — later frames depend on them — but not converted
# to pixels, which costs as much again at 1080p).
INSPECT_PER_S = 15


def _thumb(frame: np.ndarray, width: int) -> np.ndarray:
    """A greyscale copy `width` pixels wide. Every frame of a video gets one: a 1080p frame is first
    thinned by taking every k-th pixel (to about twice the width; area-averaging all of it cost ~9 ms a
    frame), then area-averaged, then made grey (on the few pixels left)."""
    h, w = frame.shape[:2]
    step = max(1, w // (2 * width))
    if step > 1:
        frame = frame[::step, ::step]
        h, w = frame.shape[:2]
    small = cv2.resize(frame, (width, max(1, round(h * width / max(w, 1)))), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small


def _largest_block_change(a: np.ndarray, b: np.ndarray, block: int = 8) -> float:
    """The largest mean absolute difference over any block×block window: a small overlay (a phone
    number, a QR sticker) changes a few blocks a lot, compression noise changes all blocks a little."""
    diff = cv2.absdiff(a, b).astype(np.float32)
    return float(cv2.blur(diff, (block, block)).max())


def sample(path: str, out_dir: Path, limits: dict) -> dict:
    max_seconds = float(limits["max_seconds"])
    every = float(limits["sample_every_s"])
    cut_level = float(limits["cut_min_difference"])
    same_level = float(limits["same_frame_max_block_difference"])
    change_level = float(limits["change_min_block_difference"])
    min_gap = float(limits["min_event_gap_s"])
    max_frames = int(limits["max_frames"])
    max_pixels = int(limits["max_pixels"])

    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not cap.isOpened():
        return {"ok": False, "clear": True, "error": "video cannot be decoded (not an MP4, MOV or WEBM video "
                                                     "the decoder can open)"}
    try:
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = float(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0)
        duration = count / fps if fps > 0 and count > 0 and math.isfinite(count / fps) else None
        head = {"width": width, "height": height, "fps": round(fps, 3),
                "duration_s": round(duration, 3) if duration else None}
        if width * height > max_pixels:
            return {**head, "ok": False, "clear": False,
                    "error": f"video frames are {width}×{height}, over the {max_pixels / 1e6:.1f} MP limit"}
        if duration is not None and duration > max_seconds:
            return {**head, "ok": False, "clear": False,
                    "error": f"video is {duration:.1f} s long, over the {max_seconds:.0f} s limit"}
        kept: list[dict] = []
        last_kept = prev_cut = prev_thumb = None
        last_kept_t = -1e9
        next_due = 0.0
        pending = False  # a cut or an appearance not sampled yet (too soon after the last frame kept)
        appearing = False  # the last frame looked at changed a lot in a few places
        decoded = 0
        t = 0.0
        stride = max(1, math.ceil(fps / INSPECT_PER_S)) if fps > 0 else 1
        while cap.grab():
            decoded += 1
            pos = cap.get(cv2.CAP_PROP_POS_MSEC)
            t = pos / 1000.0 if pos and pos > 0 else (decoded - 1) / fps if fps > 0 else float(decoded - 1)
            if t > max_seconds:
                return {**head, "ok": False, "clear": False,
                        "error": f"video runs past the {max_seconds:.0f} s limit (decoded to {t:.1f} s)"}
            if (decoded - 1) % stride and t + 1e-6 < next_due:
                continue  # not looked at: neither due nor on the inspection stride
            ok, frame = cap.retrieve()
            if not ok or frame is None:
                break
            thumb = _thumb(frame, THUMB_WIDTH)
            small = _thumb(thumb, CUT_WIDTH)
            # a cut (the whole picture changes) or something appearing on it (a sticker, a banner: a
            # few blocks change a lot) since the previous frame
            cut = prev_cut is not None and float(cv2.absdiff(small, prev_cut).mean()) >= cut_level
            appears = prev_thumb is not None and thumb.shape == prev_thumb.shape \
                and _largest_block_change(thumb, prev_thumb) >= change_level
            prev_cut, prev_thumb = small, thumb
            # something that appeared and then stays (a sticker, a banner) is an event; a change every
            # frame (text scrolling, a hand moving) is motion, which the 1-a-second frames cover
            settled = appearing and not appears
            appearing = appears
            pending = pending or cut or settled
            due = t + 1e-6 >= next_due
            if due:
                next_due = (math.floor(t / every + 1e-6) + 1) * every
            event = pending and t - last_kept_t >= min_gap
            if not (due or event):
                continue
            pending = appearing = False  # this frame is looked at: what appeared on it needs no other
            if last_kept is not None and thumb.shape == last_kept.shape \
                    and _largest_block_change(thumb, last_kept) <= same_level:
                continue  # the same picture as the last frame screened
            if len(kept) >= max_frames:
                return {**head, "ok": False, "clear": False,
                        "error": f"video has more than {max_frames} distinct frames to screen (the limit)"}
            name = f"frame_{len(kept):04d}.png"
            if not cv2.imwrite(str(out_dir / name), frame):
                return {**head, "ok": False, "clear": False, "error": "a frame could not be stored for screening"}
            kept.append({"file": name, "time_s": round(t, 3), "cut": bool(event and not due)})
            last_kept, last_kept_t = thumb, t
        if decoded == 0:
            return {**head, "ok": False, "clear": True, "error": "video cannot be decoded (no frame could be read)"}
        # A stream that stops well before its stated length was cut short (a truncated upload): what
        # was not decoded was not screened.
        frame_s = 1.0 / fps if fps > 0 else 0.0
        if duration is not None and t + 2 * frame_s + 0.25 < duration:
            return {**head, "ok": False, "clear": True,
                    "error": f"video is cut short: frames decode to {t:.1f} s of its stated {duration:.1f} s"}
        return {**head, "ok": True, "decoded_frames": decoded, "last_time_s": round(t, 3),
                "duration_s": round(duration if duration is not None else t + frame_s, 3), "frames": kept}
    finally:
        cap.release()


def frame_at(path: str, out_dir: Path, limits: dict) -> dict:
    """The frame shown at `limits["at_s"]` seconds (the first whose time reaches it), as frame.png: what
    the console shows beside a finding. Decoded from the start, as sampling did, so it is the same frame."""
    at = float(limits["at_s"])
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not cap.isOpened():
        return {"ok": False, "clear": True, "error": "video cannot be decoded"}
    try:
        width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > int(limits["max_pixels"]):
            return {"ok": False, "clear": False, "error": "video frames are over the pixel limit"}
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        decoded = 0
        while cap.grab():
            decoded += 1
            pos = cap.get(cv2.CAP_PROP_POS_MSEC)
            t = pos / 1000.0 if pos and pos > 0 else (decoded - 1) / fps if fps > 0 else float(decoded - 1)
            if t + 1e-3 >= at:
                ok, frame = cap.retrieve()
                if not ok or not cv2.imwrite(str(out_dir / "frame.png"), frame):
                    break
                return {"ok": True, "width": width, "height": height, "frames": [{"file": "frame.png",
                                                                                 "time_s": round(t, 3)}]}
            if t > float(limits["max_seconds"]):
                break
        return {"ok": False, "clear": False, "error": f"no frame at {at:.1f} s"}
    finally:
        cap.release()


def main(argv: list[str]) -> int:
    video, out_dir, limits = argv[1], Path(argv[2]), json.loads(argv[3])
    try:
        manifest = frame_at(video, out_dir, limits) if "at_s" in limits else sample(video, out_dir, limits)
    except cv2.error as e:
        manifest = {"ok": False, "clear": True, "error": f"video cannot be decoded ({str(e).strip()[:160]})"}
    sys.stdout.write(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
