"""SPEC §6 on videos: a product video's frames, sampled and screened like product pictures.

A video is read once, under the same path safety, size limit and digest check as a document
(pipeline.ingest.fetch), then decoded in a child process (pipeline/media/decode.py) from a private
copy of those bytes, with a deadline: a decoder stuck on a hostile file is killed, and the video is
UNREADABLE, never a hang. The child keeps at least one frame a second and one at each cut, without
near-duplicates; each kept frame is then OCR'd and scanned for codes here (`read_picture`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from pipeline.display import visible
from pipeline.errors import ContentChanged
from pipeline.ingest import fetch
from pipeline.media.images import PictureReading, read_picture
from pipeline.ocr.base import OcrEngine
from pipeline.settings import Settings
from rules import VideoLimits

DECODER = Path(__file__).with_name("decode.py")
# Container signatures: ISO BMFF (MP4, MOV: an 'ftyp', 'moov', 'mdat', 'wide' or 'free' box first) and
# EBML (WEBM, MKV). Anything else is refused before a decoder sees it.
_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")


@dataclass
class VideoFrame:
    time_s: float
    cut: bool
    picture: PictureReading


@dataclass
class ProductVideoReading:
    file: str
    width: int = 0
    height: int = 0
    duration_s: float | None = None
    frames: list[VideoFrame] = field(default_factory=list)
    error: str | None = None
    error_clear: bool = False  # plainly not a usable video (vs. over a limit, or too slow to decode)
    seconds: float = 0.0  # time spent reading it (decode and screening)


@dataclass
class SampledVideo:
    """The child's manifest and the frames it kept (BGR), or why there are none."""

    manifest: dict
    frames: list = field(default_factory=list)  # (time_s, cut, image)

    @property
    def error(self) -> str | None:
        return None if self.manifest.get("ok") else str(self.manifest.get("error") or "video cannot be decoded")


def sniff_video(head: bytes) -> bool:
    return (len(head) >= 8 and head[4:8] in _BMFF_BOXES) or head.startswith(b"\x1a\x45\xdf\xa3")


def sample_video(data: bytes, limits: VideoLimits, timeout_s: float, on_frame=None) -> SampledVideo:
    """Decode a video's bytes in a child process with a deadline and return the frames it kept.

    With `on_frame(time_s, cut, image)`, each frame is handed over as it is loaded and not kept (its
    image is None in `frames`): a long 1080p video's 180 frames would take a gigabyte held at once."""
    return _decode(data, json.loads(limits.model_dump_json()), timeout_s, on_frame)


def frame_at(data: bytes, time_s: float, limits: VideoLimits, timeout_s: float):
    """The frame (BGR) a finding at `time_s` was seen on, decoded like the sampling (child process,
    deadline); None when the video has no such frame or cannot be decoded."""
    sampled = _decode(data, {**json.loads(limits.model_dump_json()), "at_s": float(time_s)}, timeout_s)
    return sampled.frames[0][2] if sampled.error is None and sampled.frames else None


def _decode(data: bytes, task: dict, timeout_s: float, on_frame=None) -> SampledVideo:
    if not sniff_video(data[:16]):
        return SampledVideo({"ok": False, "clear": True, "error": "not an MP4, MOV or WEBM video"})
    with tempfile.TemporaryDirectory(prefix="zizhi-video-") as tmp:
        own = Path(tmp) / "video"
        own.write_bytes(data)  # the decoder gets our own copy of the bytes verified, never the upload's path
        frames_dir = Path(tmp) / "frames"
        frames_dir.mkdir()
        # -P: the script's folder (this package) is not put on the child's import path
        env = {**os.environ, "OPENCV_FFMPEG_LOGLEVEL": "-8", "OPENCV_LOG_LEVEL": "ERROR"}
        try:
            done = subprocess.run([sys.executable, "-P", str(DECODER), str(own), str(frames_dir), json.dumps(task)],
                                  capture_output=True, timeout=timeout_s, env=env, check=False)
        except subprocess.TimeoutExpired:
            return SampledVideo({"ok": False, "clear": False,
                                 "error": f"video could not be decoded within {timeout_s:g} s (stopped)"})
        try:
            manifest = json.loads(done.stdout.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            # the decoder died (a crash in FFmpeg on a hostile file): nothing was screened
            return SampledVideo({"ok": False, "clear": True,
                                 "error": f"video cannot be decoded (the decoder stopped, status {done.returncode})"})
        sampled = SampledVideo(manifest)
        if not manifest.get("ok"):
            return sampled
        for entry in manifest.get("frames", []):
            stored = frames_dir / Path(entry["file"]).name
            image = cv2.imread(str(stored), cv2.IMREAD_COLOR)
            stored.unlink(missing_ok=True)  # read once: the next frames need no room beside it
            if image is None:
                return SampledVideo({**manifest, "ok": False, "clear": False, "error": "a sampled frame was lost"})
            time_s, cut = float(entry["time_s"]), bool(entry.get("cut"))
            if on_frame is not None:
                on_frame(time_s, cut, image)
                image = None
            sampled.frames.append((time_s, cut, image))
        return sampled


def read_product_video(base_dir: Path, file: str, engine: OcrEngine, settings: Settings, limits: VideoLimits,
                       expect_digest: str | None = None) -> ProductVideoReading:
    """Read a product video once and screen its sampled frames; ContentChanged when its bytes are not
    the `expect_digest` the submission was fingerprinted with (as for documents and pictures)."""
    started = time.monotonic()
    reading = ProductVideoReading(file=file)
    # the same options as the fingerprint (operations.backlog), so both see the same digest
    fetched = fetch(base_dir, file, settings.ingest)
    if expect_digest is not None and fetched.digest != expect_digest:
        raise ContentChanged(f"product video {visible(file)} changed since the submission was scanned")
    if fetched.error is not None:
        reading.error = str(fetched.error)
        reading.error_clear = "is empty" in reading.error
        return reading
    data = fetched.data or b""
    if len(data) > limits.max_bytes:
        reading.error = (f"video is {len(data) / 1e6:.1f} MB, over the {limits.max_bytes / 1e6:.0f} MB limit "
                         f"(rules: video.max_bytes): {visible(Path(file).name)}")
        return reading
    screened: list[VideoFrame] = []
    sampled = sample_video(data, limits, settings.ingest.video_timeout_s,
                           on_frame=lambda t, cut, image: screened.append(
                               VideoFrame(t, cut, read_picture(image, engine, settings))))
    m = sampled.manifest
    reading.width, reading.height = int(m.get("width") or 0), int(m.get("height") or 0)
    reading.duration_s = m.get("duration_s")
    if sampled.error is not None:
        reading.error = f"{sampled.error}: {visible(Path(file).name)}"
        reading.error_clear = bool(m.get("clear"))
    else:
        reading.frames = screened
    reading.seconds = time.monotonic() - started
    return reading
