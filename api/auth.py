"""Bearer-token authentication: a dependency every route but /v1/health declares."""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from operations.intake import caller_of

bearer = HTTPBearer(auto_error=False, description="A token from the operator's ZIZHI_API_TOKENS")


async def caller(request: Request) -> str:
    """The caller (a digest of the token) of a request with a valid bearer token; 401 otherwise."""
    credentials: HTTPAuthorizationCredentials | None = await bearer(request)
    tokens: list[str] = request.app.state.settings.tokens
    given = credentials.credentials if credentials is not None else ""
    # Compared with every configured token, in constant time each: no early exit tells which is close.
    ok = False
    for token in tokens:
        ok |= hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode())
    if not given or not ok:
        raise ApiError(401, "a valid bearer token is required (Authorization: Bearer TOKEN)",
                       headers={"WWW-Authenticate": "Bearer"})
    return caller_of(given)
