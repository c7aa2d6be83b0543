"""The intake API's settings (`ZIZHI_API_*`, and `ZIZHI_API_TOKENS`), from the environment."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZIZHI_API_", extra="ignore")

    tokens: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Bearer tokens accepted (ZIZHI_API_TOKENS, comma-separated); none: "
                                          "every request but /v1/health is refused")
    host: str = Field("127.0.0.1", description="Address to listen on (loopback unless a proxy fronts it)")
    port: int = Field(8080, ge=1, le=65535)
    max_file_bytes: int = Field(50 * 1024 * 1024, ge=1024, description="Largest file accepted in an upload "
                                                                         "(the pipeline reads no larger: "
                                                                         "ZIZHI_INGEST__MAX_FILE_BYTES)")
    max_request_bytes: int = Field(200 * 1024 * 1024, ge=1024, description="Largest upload (all its parts)")
    max_header_bytes: int = Field(16 * 1024, ge=4096, le=1024 * 1024,
                                  description="Largest request head (request line and headers)")
    header_timeout_seconds: float = Field(10, gt=0, le=300, description="A connection that has not sent a "
                                                                         "request's headers this long is closed")
    body_idle_seconds: float = Field(30, gt=0, le=600, description="An upload whose body stops arriving this long "
                                                                    "is refused (408) and its staging removed")
    staging_dir: str | None = Field(None, description="Where an upload is spooled while it arrives (default: "
                                                      "the system's temporary folder)")

    @field_validator("tokens", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        return value

    @field_validator("tokens")
    @classmethod
    def _long_enough(cls, tokens: list[str]) -> list[str]:
        for token in tokens:
            if len(token) < 16 or not token.isascii() or not token.isprintable() or " " in token:
                raise ValueError("each API token must be at least 16 printable ASCII characters without spaces")
        return tokens
