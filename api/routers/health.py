"""GET /v1/health: 200 when the verdict store and the object storage answer, 503 otherwise (no token)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from api.errors import ApiError, responses
from pipeline.display import visible

router = APIRouter(prefix="/v1", tags=["health"])


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    store: str
    objects: str


@router.get("/health", response_model=Health, responses=responses(503),
            summary="Whether the store and the object storage answer")
async def health(request: Request) -> Health:
    service = request.app.state.service

    def probe() -> Health:
        try:
            with service.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as e:  # noqa: BLE001 - any failure is "down", said in one line
            raise ApiError(503, f"verdict store does not answer: {visible(str(e).splitlines()[0] if str(e) else e)}",
                           "unavailable") from None
        try:
            service.objects.check()
        except Exception as e:  # noqa: BLE001
            raise ApiError(503, f"object storage does not answer: {visible(e)}", "unavailable") from None
        return Health(status="ok", store="ok", objects="ok")

    return await run_in_threadpool(probe)
