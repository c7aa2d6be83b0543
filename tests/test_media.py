"""SPEC §6 beyond pictures (issue 23): product videos, title and description.

Text screening runs on the rules data alone (no OCR). Videos are made here with PyAV in each
container a merchant uploads (H.264 MP4, HEVC MOV, VP9 WEBM) and decoded by the pipeline's own
decoder (OpenCV's FFmpeg, in a child process with a deadline)."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.errors import ContentChanged, SubmissionError
from pipeline.evaluation import Evaluation
from pipeline.ingest import load_submission
from pipeline.media.listing import ListingReading, screen_listing
from pipeline.media.text import find_prohibited
from pipeline.media.videos import ProductVideoReading, read_product_video, sample_video
from pipeline.models import Product
from pipeline.runner import check_submission
from pipeline.settings import get_settings
from rules import PACKAGED, ContentRules, load_rules
from tests.conftest import SUBMISSIONS

RULES = load_rules()
CONTENT = RULES.content
LIMITS = RULES.thresholds.video


# --- title and description ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kind", "evasive"), [
    ("加微信 fresh_fruit88 领优惠", "wechat", False),
    ("微 信：abc12345", "wechat", False),  # spaces between the characters
    ("ＶＸ：ｘｇｓｇ２０２６ 咨询", "wechat", False),  # full-width
    ("加V xgsg2026", "wechat", False),
    ("V❤ abc12345", "wechat", True),  # a heart for 信
    ("威信 xgsg2026", "wechat", True),  # a homophone
    ("薇 xgsg2026", "wechat", True),
    ("客服 13812345678", "phone", False),
    ("订购 138 1234 5678", "phone", False),
    ("订购 138-1234-5678", "phone", False),
    ("客服 1３8🌸1234🌸5678", "phone", True),  # mixed widths, emoji between the digits
    ("幺三八一二三四五六七八", "phone", True),  # radio digits
    ("QQ 123456789", "qq", False),
    ("扣扣：12345678", "qq", False),
    ("www.example.com 下单", "link", False),
    ("全网最低价", "banned_word", False),
    ("最-好-用", "banned_word", True),  # punctuation inserted
    ("销量第一", "banned_word", False),
    ("第 一 品牌", "banned_word", False),
    ("100%纯天然", "banned_word", False),
    ("国家级 工艺", "banned_word", False),
])
def test_contact_details_and_banned_words_are_found_however_written(text, kind, evasive):
    found = find_prohibited(text, CONTENT)
    assert [f.kind for f in found][:1] == [kind], found
    assert found[0].evasive == evasive
    assert text[found[0].start:found[0].end] == found[0].found  # points at the merchant's own characters


ORDINARY_TITLES = [
    "鲜果时光 冻干草莓 50g",
    "第2件半价 买一送一 坚果礼盒",
    "纯棉V领T恤 女 夏季短袖",
    "100%纯棉 婴儿口水巾 6条装",
    "100%桑蚕丝 真丝睡衣",
    "vivo X200 Pro 手机壳 防摔",
    "华为+vivo+oppo通用 数据线 1米",
    "iPhone 15 Pro Max 钢化膜",
    "小米14 Ultra 512GB",
    "第一次使用前请清洗 不粘锅 28cm",
    "开封后最好尽快食用 冷藏保存",
    "最生活 纯棉毛巾 3条装",
    "规格 500g×2袋 13.9元",
    "2024.05.12 13:45 发货",
    "型号 13-2 尺码 38",
    "身高155-175cm可选",
    "维生素C咀嚼片 60片",
    "卫生巾 日用 240mm 10片",
    "心形抱枕 情人节礼物",
    "加厚垃圾袋 100只 点断式",
    "十三香 调味料 45g",
    "1+1套装 洗发水 护发素",
    "微波炉 20升 家用",
    "扣子 树脂 100颗",
]


@pytest.mark.parametrize("title", ORDINARY_TITLES)
def test_ordinary_titles_pass(title):
    assert find_prohibited(title, CONTENT) == []


def test_the_declared_brand_is_not_a_claim():
    assert [f.kind for f in find_prohibited("第一坊 老字号 酱油", CONTENT)] == ["banned_word"]
    assert find_prohibited("第一坊 老字号 酱油", CONTENT, protected=("第一坊",)) == []


def _screen(title="", description="", brand=None):
    ev = Evaluation()
    screen_listing(ev, Product(title=title, description=description, category="general", brand=brand), None, RULES)
    return ev


def test_title_and_description_findings_are_prohibited_content_on_their_fields():
    ev = _screen(title="洁室 垃圾袋 加微信 jieshi2026", description="全网最低价")
    assert {(r.code, r.document) for r in ev.reasons} == {("PROHIBITED_CONTENT", "product.title"),
                                                           ("PROHIBITED_CONTENT", "product.description")}
    assert {c.status for c in ev.checks} == {"fail"}  # the merchant's own text, written plainly: clear


def test_evasive_text_is_sent_to_review_and_clean_text_passes():
    ev = _screen(title="洁室 垃圾袋", description="详询 V❤ jieshi2026")
    statuses = {c.name: c.status for c in ev.checks}
    assert statuses == {"product_title_clean": "pass", "product_description_clean": "review"}
    assert ev.reasons[0].code == "PROHIBITED_CONTENT" and "dodge" in ev.reasons[0].message


@pytest.mark.parametrize(("key", "value", "message"), [
    ("contact_patterns", {"phone": "1[3-9"}, "contact pattern phone"),
    ("allowed_phrases", ["第一(次"], "allowed phrase"),
    ("banned_words", ["最好", " "], "empty word"),
    ("variants", {"": "微"}, "empty key"),
    ("compact_drops", {"categories": ["Lo"]}, "letters and digits"),
    ("compact_drops", {"categories": ["Xx"]}, "not Unicode general categories"),
])
def test_content_rules_are_validated(key, value, message):
    data = yaml.safe_load((PACKAGED / "content.yaml").read_text(encoding="utf-8"))
    data[key] = value
    with pytest.raises(ValueError, match=message):
        ContentRules.model_validate(data)


def test_an_operator_adds_a_banned_word_by_editing_the_file(tmp_path):
    data = yaml.safe_load((PACKAGED / "content.yaml").read_text(encoding="utf-8"))
    data["banned_words"].append("秒杀全网")
    (tmp_path / "content.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert find_prohibited("秒杀全网 坚果", load_rules(tmp_path).content)
    assert not find_prohibited("秒杀全网 坚果", CONTENT)


# --- videos: decoding, sampling, limits ---------------------------------------------------------

def _frame(colour: int, text: str = "", size=(320, 240)) -> np.ndarray:
    import cv2

    w, h = size
    f = np.full((h, w, 3), colour, np.uint8)
    f[:, : w // 3] = (colour * 3) % 256  # a stripe, so that colours differ in grey too
    if text:
        cv2.putText(f, text, (20, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 3)
    return f


def encode(frames: list[np.ndarray], codec="libx264", fmt="mp4", fps=10) -> bytes:
    import av

    buf = io.BytesIO()
    h, w = frames[0].shape[:2]
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f[:, :, ::-1]), format="rgb24")
            frame.pts = i
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode(None):
            out.mux(p)
    return buf.getvalue()


def numbered(seconds: int, fps=10) -> list[np.ndarray]:
    """A frame whose content changes every second (the second's number on a new colour)."""
    return [_frame(40 + 30 * (i // fps), f"t={i // fps}") for i in range(seconds * fps)]


@pytest.mark.parametrize(("codec", "fmt"), [("libx264", "mp4"), ("hevc", "mov"), ("libvpx-vp9", "webm"),
                                            ("mpeg4", "mov")])
def test_each_container_decodes_and_is_sampled_every_second(codec, fmt):
    sampled = sample_video(encode(numbered(4), codec, fmt), LIMITS, 50)
    assert sampled.error is None, sampled.manifest
    assert [round(t, 1) for t, _, _ in sampled.frames] == [0.0, 1.0, 2.0, 3.0]
    assert sampled.manifest["duration_s"] == pytest.approx(4.0, abs=0.15)


def test_a_short_shot_between_two_seconds_is_sampled_at_its_cut():
    frames = [_frame(40) for _ in range(12)] + [_frame(200, "QR") for _ in range(5)] + [_frame(40) for _ in range(13)]
    sampled = sample_video(encode(frames), LIMITS, 50)  # the bright shot runs 1.2–1.7 s
    times = [round(t, 1) for t, _, _ in sampled.frames]
    assert 1.2 in times and times[:1] == [0.0]
    assert any(cut for t, cut, _ in sampled.frames if round(t, 1) == 1.2)


def test_a_still_video_is_screened_once():
    sampled = sample_video(encode([_frame(90, "same") for _ in range(50)]), LIMITS, 50)
    assert [round(t, 1) for t, _, _ in sampled.frames] == [0.0]


def test_an_over_long_video_is_not_screened():
    limits = LIMITS.model_copy(update={"max_seconds": 2.0})
    sampled = sample_video(encode(numbered(4)), limits, 50)
    assert sampled.frames == [] and "over the 2 s limit" in sampled.error and not sampled.manifest["clear"]


def test_too_many_distinct_frames_is_not_a_partial_pass():
    limits = LIMITS.model_copy(update={"max_frames": 2})
    sampled = sample_video(encode(numbered(4)), limits, 50)
    assert sampled.frames == [] and "more than 2 distinct frames" in sampled.error


@pytest.mark.parametrize(("data", "why"), [
    (b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200, "cannot be decoded"),  # an MP4 header and nothing else
    (b"not a video at all, just text" * 10, "not an MP4, MOV or WEBM"),
    (b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 4, "cannot be decoded"),  # an EBML magic and garbage
])
def test_corrupt_videos_are_clearly_unreadable_and_fast(data, why):
    started = time.monotonic()
    sampled = sample_video(data, LIMITS, 50)
    assert why in sampled.error and sampled.manifest["clear"] and sampled.frames == []
    assert time.monotonic() - started < 10


def test_a_truncated_video_is_unreadable():
    data = encode(numbered(4))
    for share in (0.5, 0.9):
        sampled = sample_video(data[: int(len(data) * share)], LIMITS, 50)
        assert sampled.error and sampled.manifest["clear"] and sampled.frames == [], share


def test_a_faststart_video_cut_short_is_unreadable_not_a_shorter_pass(tmp_path):
    """With its index first (faststart), a cut-short MP4 still opens: frames stop before its stated length."""
    import av

    frames = numbered(4)
    path = tmp_path / "faststart.mp4"  # faststart rewrites the file: a real one, not a buffer
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.options = {"bframes": "0"}
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f[:, :, ::-1]), format="rgb24")
            frame.pts = i
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode(None):
            out.mux(p)
    data = path.read_bytes()
    assert data[4:8] == b"ftyp" and data.find(b"moov") < data.find(b"mdat")
    sampled = sample_video(data[: int(len(data) * 0.6)], LIMITS, 50)
    assert sampled.frames == [] and sampled.error, sampled.manifest
    assert "cut short" in sampled.error or "cannot be decoded" in sampled.error


def test_a_decoder_that_does_not_finish_is_stopped_at_the_deadline():
    """The decoder runs in a child process: past the deadline it is killed and the video is UNREADABLE."""
    started = time.monotonic()
    sampled = sample_video(encode(numbered(4)), LIMITS, 0.01)
    assert "within 0.01 s (stopped)" in sampled.error and not sampled.manifest["clear"]
    assert time.monotonic() - started < 5


# --- videos in a submission -------------------------------------------------------------------

def _listing_folder(tmp_path: Path, videos: dict[str, bytes], **product) -> Path:
    folder = tmp_path / "sub"
    (folder / "media").mkdir(parents=True)
    for name, data in videos.items():
        (folder / name).write_bytes(data)
    sub = {"id": "SUB-V", "shop": {"name": "店", "company": "宁波洁室日用品有限公司"},
           "product": {"title": "洁室 垃圾袋", "category": "general", "videos": list(videos), **product},
           "documents": [{"file": "media/x.jpg"}]}
    (folder / "media" / "x.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "submission.json").write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")
    return folder


def test_video_paths_are_checked_like_documents(tmp_path):
    folder = _listing_folder(tmp_path, {"media/a.mp4": b"x"})
    sub, base = load_submission(folder / "submission.json")
    for bad in ("../outside.mp4", "/etc/passwd", "media/missing.mp4"):
        with pytest.raises(SubmissionError):
            check_submission(sub.model_copy(update={"product": sub.product.model_copy(update={"videos": [bad]})}),
                             base, RULES)
    many = [f"media/v{i}.mp4" for i in range(RULES.thresholds.max_product_videos + 1)]
    for name in many:
        (folder / name).write_bytes(b"x")
    with pytest.raises(SubmissionError, match="max_product_videos"):
        check_submission(sub.model_copy(update={"product": sub.product.model_copy(update={"videos": many})}),
                         base, RULES)
    twice = check_submission(sub.model_copy(update={"product": sub.product.model_copy(
        update={"videos": ["media/a.mp4", "media//a.mp4"]})}), base, RULES)
    assert twice.product.videos == ["media/a.mp4"]  # one file listed twice is read once


def test_a_video_over_the_size_limit_or_empty_is_unreadable_not_passed(tmp_path, engine):
    data = encode(numbered(2))
    folder = _listing_folder(tmp_path, {"media/a.mp4": data, "media/empty.mp4": b""})
    small = LIMITS.model_copy(update={"max_bytes": len(data) - 1})
    big = read_product_video(folder, "media/a.mp4", engine, get_settings(), small)
    assert "video.max_bytes" in big.error and not big.error_clear and big.frames == []
    empty = read_product_video(folder, "media/empty.mp4", engine, get_settings(), LIMITS)
    assert "empty" in empty.error and empty.error_clear
    ev = Evaluation()
    screen_listing(ev, Product(title="t", category="general"), ListingReading(videos=[big, empty]), RULES)
    assert [(r.code, r.document) for r in ev.reasons] == [("UNREADABLE", "media/a.mp4"),
                                                           ("UNREADABLE", "media/empty.mp4")]
    assert [c.status for c in ev.checks if c.name == "product_video_clean"] == ["review", "fail"]


def test_a_video_changed_since_it_was_fingerprinted_is_refused(tmp_path, engine):
    folder = _listing_folder(tmp_path, {"media/a.mp4": encode(numbered(1))})
    with pytest.raises(ContentChanged):
        read_product_video(folder, "media/a.mp4", engine, get_settings(), LIMITS, expect_digest="0" * 64)


def test_a_changed_video_is_a_new_submission_for_the_backlog(tmp_path):
    from operations import backlog as bl

    folder = _listing_folder(tmp_path, {"media/a.mp4": encode(numbered(1))})
    before = bl.fingerprint(folder)
    assert "media/a.mp4" in before.doc_hashes
    (folder / "media" / "a.mp4").write_bytes(encode(numbered(2)))
    after = bl.fingerprint(folder)
    assert after.content_hash != before.content_hash
    copy = bl.copy_verified(folder, after.submission_json, after.doc_hashes)
    assert ("product_video", "media/a.mp4") in {(role, name) for role, name, _ in copy.files}


def test_findings_name_the_video_and_the_second():
    from pipeline.media.images import PictureReading, SeenText
    from pipeline.media.videos import VideoFrame

    frames = [VideoFrame(t, False, PictureReading(512, 512, lines=[SeenText(text, 0.99, [[10, 400], [300, 400],
                                                                                         [300, 430], [10, 430]])]))
              for t, text in ((0.0, "洁室 垃圾袋"), (12.5, "订购热线 13857123456"), (13.0, "订购热线 13857123456"))]
    video = ProductVideoReading("media/detail.mp4", 512, 512, 20.0, frames)
    ev = Evaluation()
    media = screen_listing(ev, Product(title="t", category="general"), ListingReading(videos=[video]), RULES)
    reason = next(r for r in ev.reasons if r.document == "media/detail.mp4")
    assert reason.code == "PROHIBITED_CONTENT" and "at 12.5 s" in reason.message and "also at 13.0 s" in reason.message
    assert [(f.time_s, f.box[0]) for f in media[0].findings] == [(12.5, [10, 400]), (13.0, [10, 400])]


# --- the fixture videos end to end (OCR) --------------------------------------------------------

CLEAN, PROHIBITED = "general-listing-clean-video-ordinary-text", "general-listing-prohibited-media"


def _verify(path: Path):
    from pipeline.runner import verify

    started = time.monotonic()
    verdict = verify(path, today=dt.date(2026, 11, 27))
    return verdict, time.monotonic() - started


def _with_videos(tmp_path: Path, case: str, videos: list[str]) -> Path:
    """A copy of a fixture case whose product lists only `videos`."""
    folder = tmp_path / case
    shutil.copytree(SUBMISSIONS / case, folder)
    sub = json.loads((folder / "submission.json").read_text(encoding="utf-8"))
    sub["product"]["videos"] = videos
    (folder / "submission.json").write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")
    return folder / "submission.json"


@pytest.mark.ocr
def test_fixture_videos_end_to_end(engine, tmp_path):
    """Issue 23's Done-when: the clean video approves; a phone number or a QR code shown for one second
    is never approved and its reason names a second it is on screen; a corrupt video is UNREADABLE in
    under 60 s; the title and description are PROHIBITED_CONTENT on their own fields."""
    verdict, _ = _verify(SUBMISSIONS / CLEAN / "submission.json")
    assert verdict.decision == "approve", verdict.reasons
    truth = json.loads((SUBMISSIONS / PROHIBITED / "expected.json").read_text(encoding="utf-8"))
    for video in ("media/detail.mp4", "media/main.mp4"):  # the phone banner, the QR sticker: one at a time
        verdict, _ = _verify(_with_videos(tmp_path / video.replace("/", "_"), PROHIBITED, [video]))
        assert verdict.decision != "approve"
        named = [r for r in verdict.reasons if r.code == "PROHIBITED_CONTENT" and r.document == video]
        assert named, verdict.reasons
        second = float(named[0].message.split(" at ")[1].split(" s")[0])
        assert any(lo - 0.05 <= second < hi for lo, hi in truth["videos"][video]["shown"]), (second, truth)
    verdict, seconds = _verify(_with_videos(tmp_path / "corrupt", PROHIBITED, ["media/detail_2.mp4"]))
    assert ("UNREADABLE", "media/detail_2.mp4") in {(r.code, r.document) for r in verdict.reasons}
    assert verdict.decision != "approve" and seconds < 60
    assert {("PROHIBITED_CONTENT", "product.title"), ("PROHIBITED_CONTENT", "product.description")} <= \
        {(r.code, r.document) for r in verdict.reasons}


def test_fixture_videos_compare_by_their_frames(tmp_path):
    """`python -m fixtures.generator --check` on another CPU: a video is the same when its decoded frames
    are (within the lossy tolerance); a banner in some frames, or another cut-short length, is not."""
    from fixtures.generator.__main__ import same_pixels

    media = SUBMISSIONS / PROHIBITED / "media"
    reencoded = tmp_path / "detail.mp4"  # the same frames through the codec with other rounding
    reencoded.write_bytes(encode(_decoded(media / "detail.mp4")))
    assert reencoded.read_bytes() != (media / "detail.mp4").read_bytes()
    assert same_pixels(media / "detail.mp4", reencoded)
    assert not same_pixels(media / "detail.mp4", media / "main.mp4")  # the banner vs the QR sticker
    assert same_pixels(media / "detail_2.mp4", media / "detail_2.mp4")
    shorter = tmp_path / "detail_2.mp4"
    shorter.write_bytes((media / "detail_2.mp4").read_bytes()[:-2000])
    assert not same_pixels(media / "detail_2.mp4", shorter)
    assert not same_pixels(media / "detail_2.mp4", media / "detail.mp4")


def _decoded(path: Path) -> list[np.ndarray]:
    import cv2

    capture, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)
