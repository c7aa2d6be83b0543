"""Reviewer passwords: scrypt (RFC 7914, Python's `hashlib.scrypt`), in a self-describing string.

`scrypt$n=<N>,r=<r>,p=<p>$<salt, base64>$<key, base64>` — the parameters travel with the hash, so
raising the cost later leaves old hashes verifiable (`needs_rehash` tells when to upgrade one at
login). N=2**15, r=8, p=1 is the cost OWASP's Password Storage Cheat Sheet lists for scrypt
(about 50 ms and 32 MiB here). Comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N, R, P = 2**15, 8, 1
KEY_BYTES = 32
SALT_BYTES = 16
# Memory scrypt needs is 128·N·r bytes; OpenSSL refuses above maxmem (default 32 MiB, exactly N=2**15).
_MAXMEM = 64 * 1024 * 1024
MIN_PASSWORD_LENGTH = 10


class PasswordError(ValueError):
    """A password that may not be set (too short, too long)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise PasswordError("a password may have at most 1024 characters")


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=KEY_BYTES)
    return f"{SCHEME}$n={n},r={r},p={p}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[dict[str, int], bytes, bytes]:
    scheme, params, salt, key = stored.split("$")
    if scheme != SCHEME:
        raise ValueError(f"unknown password scheme {scheme!r}")
    values = {k: int(v) for k, v in (item.split("=") for item in params.split(","))}
    return values, _unb64(salt), _unb64(key)


def verify_password(password: str, stored: str) -> bool:
    try:
        params, salt, key = _parse(stored)
        got = hashlib.scrypt(password.encode(), salt=salt, n=params["n"], r=params["r"], p=params["p"],
                             maxmem=_MAXMEM, dklen=len(key))
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(got, key)


def needs_rehash(stored: str) -> bool:
    try:
        params, _, key = _parse(stored)
    except (ValueError, KeyError):
        return True
    return (params.get("n"), params.get("r"), params.get("p"), len(key)) != (N, R, P, KEY_BYTES)


# Verifying against this when the name is unknown makes a wrong name cost as long as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
