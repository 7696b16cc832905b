"""Authentication: who is calling, proved by a password (and a TOTP code), a session or an
API token. Only hashes are stored; the operations that use them live in
:mod:`crmguard.service.auth`, so the CLI and the HTTP API share one set of rules.
"""

from crmguard.auth.schema import auth_credentials, auth_failures, auth_sessions, auth_tokens
from crmguard.auth.schema import metadata as metadata
from crmguard.auth.secrets import (
    PasswordHasher,
    hash_secret,
    new_secret,
    same_secret,
)
from crmguard.auth.totp import new_totp_secret, totp_uri, verify_totp

__all__ = [
    "PasswordHasher",
    "auth_credentials",
    "auth_failures",
    "auth_sessions",
    "auth_tokens",
    "hash_secret",
    "metadata",
    "new_secret",
    "new_totp_secret",
    "same_secret",
    "totp_uri",
    "verify_totp",
]
