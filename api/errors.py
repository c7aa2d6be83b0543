"""Errors as SPEC §7 says: `{"error": {"code", "message"}}` with a 4xx/5xx status, for every refusal
(FastAPI's own 404/405/422 included)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.display import visible

log = logging.getLogger("zizhi.api")

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         408: "request_timeout", 409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_submission",
         431: "headers_too_large", 500: "internal_error", 503: "unavailable"}


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    message: str


class ErrorResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: ErrorBody


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.headers = headers


def error_response(status: int, message: str, code: str | None = None, headers: dict | None = None) -> JSONResponse:
    body = {"error": {"code": code or CODES.get(status, "error"), "message": visible(message)[:2000]}}
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return error_response(exc.status, exc.message, exc.code, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        # A bug or a backend failure the route did not foresee: logged with its traceback, answered in
        # the same JSON shape as every other error, without internals.
        log.error("unhandled error: %s", visible(exc), exc_info=exc)
        return error_response(500, "internal error: nothing was stored; retry later", "internal_error")

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()[:5])
        return error_response(422, problems or "invalid request", "invalid_request")


# For the OpenAPI page: what each refusal looks like.
def responses(*statuses: int) -> dict:
    text = {401: "No valid bearer token", 404: "Unknown id (or another caller's)",
            408: "The upload stopped arriving (send it again)", 409: "Conflict",
            413: "Too large", 415: "Not a JPG, PNG, WEBP, TIFF, BMP or PDF", 422: "Unusable submission",
            503: "Store or object storage down"}
    return {s: {"model": ErrorResponse, "description": text.get(s, "Error")} for s in statuses}
