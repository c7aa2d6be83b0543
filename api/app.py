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


def create_app(service: Service) -> FastAPI:
    app = FastAPI(title="zizhi intake API", version="1", description=DESCRIPTION,
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.service = service
    app.state.settings = service.settings
    errors.install(app)
    for module in (requirements, submissions, health):
        app.include_router(module.router)
    return app
