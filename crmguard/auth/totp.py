"""TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s), via ``cryptography``.

A code from the step before or after is accepted too, for clocks a little apart.
"""

from __future__ import annotations

import base64
import secrets
import time
from urllib.parse import quote

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

_LENGTH = 6
_STEP = 30


def new_totp_secret() -> str:
    """A fresh 160-bit secret in base32 (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def _totp(secret_b32: str) -> TOTP:
    key = base64.b32decode(secret_b32)
    return TOTP(key, _LENGTH, SHA1(), _STEP, enforce_key_length=False)  # noqa: S303


def totp_uri(secret_b32: str, username: str, issuer: str = "crmguard") -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return _totp(secret_b32).get_provisioning_uri(quote(username), issuer)


def current_code(secret_b32: str, at: float | None = None) -> str:
    """The code for ``at`` (now by default); used by tests and enrolment checks."""
    return _totp(secret_b32).generate(int(at if at is not None else time.time())).decode()


def verify_totp(secret_b32: str, code: str, at: float | None = None) -> bool:
    """True when ``code`` matches this step or the one before or after."""
    if not code.isdigit() or len(code) != _LENGTH:
        return False
    totp = _totp(secret_b32)
    now = int(at if at is not None else time.time())
    for drift in (0, -_STEP, _STEP):
        try:
            totp.verify(code.encode("ascii"), now + drift)
            return True
        except InvalidToken:
            continue
    return False
