"""The intake API's FastAPI application (SPEC §7). Its OpenAPI page (/docs, /openapi.json) documents it."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.routers import health, requirements, submissions
from api.service import Service

DESCRIPTION = """zizhi's intake API: the listing service submits a merchant's qualification documents,
learns the outcome (待审核 pending, 审核中 in_review, 审核通过 approved, 审核驳回 rejected, or failed),
and is notified of every status change (Standard Webhooks). Every request but `GET /v1/health`
carries `Authorization: Bearer TOKEN`. Errors are `{"error": {"code", "message"}}`."""


class HeaderLimit:
    """431 for a request whose headers add up to more than `max_bytes`. (uvicorn's h11 limit applies only
    to a head that arrives in pieces: one sent in a single packet is parsed whole, whatever its size.)"""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and sum(len(k) + len(v) + 4 for k, v in scope["headers"]) > self.max_bytes:
            await errors.error_response(431, f"request headers are over {self.max_bytes} bytes")(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(service: Service) -> FastAPI:
    app = FastAPI(title="zizhi intake API", version="1", description=DESCRIPTION,
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.service = service
    app.state.settings = service.settings
    errors.install(app)
    for module in (requirements, submissions, health):
        app.include_router(module.router)
    app.add_middleware(HeaderLimit, max_bytes=service.settings.max_header_bytes)
    return app
