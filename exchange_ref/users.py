"""The exchange's users in memory: found by API key digest (authentication) or engine owner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from exchange_ref.keys import MAX_KEY_LENGTH, key_digest
from exchange_ref.storage.records import UserRecord

__all__ = ["User", "UserRegistry"]


@dataclass(slots=True, frozen=True)
class User:
    """A user: its stored id, its account number in the engine (`owner`) and its name."""

    id: uuid.UUID
    owner: int
    name: str


class UserRegistry:
    """Every user of the exchange; owners are numbered 1, 2, ... in the order users are added."""

    def __init__(self) -> None:
        self.by_digest: dict[str, User] = {}  # by key_digest(api key)
        self.by_owner: dict[int, User] = {}

    def __len__(self) -> int:
        return len(self.by_owner)

    def add(self, record: UserRecord) -> User:
        user = User(record.id, len(self.by_owner) + 1, record.name)
        self.by_digest[record.api_key_digest] = user
        self.by_owner[user.owner] = user
        return user

    def find(self, api_key: str | None) -> User | None:
        """The user holding `api_key`, looked up by its digest; None when nobody does."""
        if not api_key or len(api_key) > MAX_KEY_LENGTH:
            return None
        return self.by_digest.get(key_digest(api_key))
