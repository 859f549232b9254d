"""Request dependencies: the service, the wire views and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from exchange_ref.api.auth import authenticate, require_admin, running
from exchange_ref.api.views import WireViews
from exchange_ref.audit import Auditor
from exchange_ref.service import ExchangeService
from exchange_ref.users import User

__all__ = ["AdminKey", "Audits", "CurrentUser", "Service", "Views", "get_service"]

api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="a user's API key")


async def get_service(request: Request) -> ExchangeService:
    return running(getattr(request.app.state, "service", None))


async def get_views(request: Request) -> WireViews:
    views: WireViews = request.app.state.views
    return views


async def get_auditor(request: Request) -> Auditor:
    running(getattr(request.app.state, "service", None))
    auditor: Auditor = request.app.state.auditor
    return auditor


Service = Annotated[ExchangeService, Depends(get_service)]
Audits = Annotated[Auditor, Depends(get_auditor)]
Views = Annotated[WireViews, Depends(get_views)]


async def current_user(
    service: Service, api_key: Annotated[str | None, Depends(api_key_scheme)]
) -> User:
    return authenticate(service, api_key)


async def admin_key(
    service: Service, api_key: Annotated[str | None, Depends(api_key_scheme)]
) -> None:
    require_admin(service, api_key)


CurrentUser = Annotated[User, Depends(current_user)]
AdminKey = Annotated[None, Depends(admin_key)]
