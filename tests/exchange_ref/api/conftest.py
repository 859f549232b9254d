"""A real exchange under uvicorn on 127.0.0.1 (port 0) with a SQLite file, per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from exchange_ref.server import ServerThread
from tests.factories import exchange_settings

ADMIN = {"X-API-Key": "test-admin-key-0123456"}


@dataclass
class Live:
    server: ServerThread
    client: httpx.Client

    @property
    def url(self) -> str:
        return self.server.url

    def users(self, count: int = 2, **balances: str) -> list[dict[str, str]]:
        body: dict[str, object] = {"count": count}
        if balances:
            body["balances"] = balances
        r = self.client.post("/admin/users", json=body, headers=ADMIN)
        assert r.status_code == 201, r.text
        return r.json()["users"]


@pytest.fixture(params=[True, False], ids=["fast-path", "framework"])
def live(tmp_path, request) -> Iterator[Live]:
    """The exchange with the order routes on the raw fast path, and without it."""
    server = ServerThread(exchange_settings(tmp_path, fast_path=request.param)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            yield Live(server, client)
    finally:
        server.stop()


def key(user: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": user["apiKey"]}
