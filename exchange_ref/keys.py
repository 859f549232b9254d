"""API keys: issued at random, stored only as a digest, compared in constant time.

A key is 128 random bits, so one SHA-256 pass is enough to keep a database reader from using
the stored value (there is no dictionary to try, unlike a password); the exchange looks users
up by the digest of the key they present.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["MAX_KEY_LENGTH", "key_digest", "new_api_key", "same_key"]

# Longer header values are refused before hashing: no issued key is near this.
MAX_KEY_LENGTH = 256


def new_api_key() -> str:
    """A fresh user API key: 32 hexadecimal characters (128 random bits)."""
    return secrets.token_hex(16)


def key_digest(api_key: str) -> str:
    """What the database keeps of a key: its SHA-256, as 64 hexadecimal characters."""
    return hashlib.sha256(api_key.encode("utf-8", "surrogateescape")).hexdigest()


def same_key(given: str, expected: str) -> bool:
    """`given == expected`, in time that does not depend on where they first differ."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )
