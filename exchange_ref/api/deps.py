"""Request dependencies: the service and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from exchange_ref.api.wire import WireError
from exchange_ref.service import ExchangeService, User

__all__ = ["AdminKey", "CurrentUser", "Service", "get_service"]

api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="a user's API key")


async def get_service(request: Request) -> ExchangeService:
    service: ExchangeService | None = getattr(request.app.state, "service", None)
    if service is None or not service.ready:
        raise WireError("NOT_READY", "the exchange is starting; books are being rebuilt", 503)
    return service


Service = Annotated[ExchangeService, Depends(get_service)]


async def current_user(
    service: Service, api_key: Annotated[str | None, Depends(api_key_scheme)]
) -> User:
    if not api_key:
        raise WireError("UNAUTHORIZED", "missing X-API-Key header", 401)
    user = service.authenticate(api_key)
    if user is None:
        raise WireError("UNAUTHORIZED", "unknown API key", 401)
    return user


async def admin_key(
    service: Service, api_key: Annotated[str | None, Depends(api_key_scheme)]
) -> None:
    if not api_key:
        raise WireError("UNAUTHORIZED", "missing X-API-Key header", 401)
    if not service.is_admin(api_key):
        raise WireError("FORBIDDEN", "this route needs the admin key", 403)


CurrentUser = Annotated[User, Depends(current_user)]
AdminKey = Annotated[None, Depends(admin_key)]
