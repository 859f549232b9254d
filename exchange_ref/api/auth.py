"""Who is calling: the running service and the user or admin behind an API key, for both
request paths (the FastAPI dependencies and the fast path)."""

from __future__ import annotations

from exchange_ref.api.wire import WireError
from exchange_ref.service import ExchangeService
from exchange_ref.users import User

__all__ = ["authenticate", "require_admin", "running"]


def running(service: ExchangeService | None) -> ExchangeService:
    """The service once it is ready to take requests; 503 NOT_READY before."""
    if service is None or not service.ready:
        raise WireError("NOT_READY", "the exchange is starting; books are being rebuilt", 503)
    return service


def authenticate(service: ExchangeService, api_key: str | None) -> User:
    """The user holding `api_key`; 401 when it is missing or unknown."""
    if not api_key:
        raise WireError("UNAUTHORIZED", "missing X-API-Key header", 401)
    user = service.authenticate(api_key)
    if user is None:
        raise WireError("UNAUTHORIZED", "unknown API key", 401)
    return user


def require_admin(service: ExchangeService, api_key: str | None) -> None:
    """Nothing when `api_key` is the admin key; 401 without a key, 403 with another."""
    if not api_key:
        raise WireError("UNAUTHORIZED", "missing X-API-Key header", 401)
    if not service.is_admin(api_key):
        raise WireError("FORBIDDEN", "this route needs the admin key", 403)
