"""Passwords never printed: credentials in URLs masked wherever the tool shows or logs one."""

from __future__ import annotations

import re

__all__ = ["mask_url", "redact"]

# scheme://user:password@host -> scheme://user:***@host. In free text a password ends at the
# last "@" before a space, so one holding "@", ":" or "/" is masked whole; a URL given alone
# (mask_url) may hold spaces in its password too.
_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*):[^\s]*@")
_URL_CREDENTIALS = re.compile(r"^(\s*[A-Za-z][A-Za-z0-9+.-]*://[^/:@]*):.*@")
# ...?password=secret in a URL's query, or password=secret in a libpq connection string.
_PARAMETER = re.compile(r"(\bpassword=)[^\s&;]*", re.IGNORECASE)
_MASK = "***"


def mask_url(url: str) -> str:
    """`url` with any password replaced by `***` (a URL without one is returned as is)."""
    return redact(_URL_CREDENTIALS.sub(rf"\1:{_MASK}@", url, count=1))


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by `***`."""
    if "@" in text:
        text = _CREDENTIALS.sub(rf"\1:{_MASK}@", text)
    if "assword=" in text or "ASSWORD=" in text:
        text = _PARAMETER.sub(rf"\1{_MASK}", text)
    return text
