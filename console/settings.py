"""The reviewer console's settings (`ZIZHI_CONSOLE_*`)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZIZHI_CONSOLE_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on; loopback unless a proxy fronts it")
    port: int = Field(8000, ge=1, le=65535)
    session_idle_minutes: int = Field(120, ge=1, description="A session unused this long is closed")
    session_lifetime_hours: int = Field(12, ge=1, description="A session is closed this long after login")
    secure_cookies: bool = Field(False, description="Mark cookies Secure (set when served over HTTPS)")
    public_origin: str | None = Field(None, description="Origin reviewers' browsers use, e.g. https://review.example; "
                                                        "set behind a proxy (POSTs from any other origin are refused)")
    login_max_failures: int = Field(5, ge=1, description="Failed logins per name before it is locked out")
    login_lockout_minutes: int = Field(15, ge=1, description="The window (and the lockout) for failed logins")
    rendered_documents: int = Field(32, ge=1, description="Decoded documents kept in memory for page images")
    lease_minutes: float = Field(5, gt=0, le=120, description="A reviewer who opens a pending verdict holds it "
                                                               "this long (renewed on each visit); others skip it")
    audit_share: float = Field(0.02, ge=0, le=1, description="Share of pre-screen approves that enter the review "
                                                              "queue as the audit sample (chosen by content hash)")
    header_timeout_seconds: float = Field(10, gt=0, le=300, description="A connection that has not sent a "
                                                                         "request's headers this long is closed")
    max_header_bytes: int = Field(16 * 1024, ge=4096, le=1024 * 1024,
                                  description="Largest request head (request line and headers) accepted")

    @property
    def session_idle(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.session_idle_minutes)

    @property
    def session_lifetime(self) -> dt.timedelta:
        return dt.timedelta(hours=self.session_lifetime_hours)
