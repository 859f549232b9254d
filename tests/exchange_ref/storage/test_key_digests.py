"""API keys are stored as digests; a database of schema version 1 (keys in the clear) is
migrated in place and its users' keys keep working."""

from __future__ import annotations

import uuid

import pytest

from exchange_ref.keys import key_digest
from exchange_ref.storage import Store, UserRecord, WriteBatch
from exchange_ref.storage.schema import SCHEMA_VERSION

T0 = 1_760_000_000_000_000


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    fixture = "sqlite_store" if request.param == "sqlite" else "pg_store"
    result: Store = request.getfixturevalue(fixture)
    return result


def _stored_keys(store: Store) -> list[str]:
    with store._connection() as conn:
        return [row[0] for row in conn.execute("SELECT api_key_digest FROM users").fetchall()]


def _as_version_1(store: Store, keys: dict[uuid.UUID, str]) -> None:
    """Turn a current database back into what version 1 wrote: each key itself in `api_key`."""
    p = "%s" if store.is_postgres else "?"
    with store._connection() as conn:
        conn.execute("ALTER TABLE users RENAME COLUMN api_key_digest TO api_key")
        for user_id, key in keys.items():
            where = user_id if store.is_postgres else user_id.hex
            conn.execute(f"UPDATE users SET api_key = {p} WHERE id = {p}", (key, where))
        conn.execute("UPDATE schema_version SET version = 1")


def test_only_the_digest_is_stored(store: Store) -> None:
    key = "k" * 32
    store.write(WriteBatch(users=[UserRecord(uuid.uuid4(), "alice", key_digest(key), T0)]))
    assert _stored_keys(store) == [key_digest(key)]
    assert key not in _stored_keys(store)
    found = store.user_by_api_key(key)
    assert found is not None and found.name == "alice"
    assert store.user_by_api_key(key_digest(key)) is None  # the digest is not a key


def test_a_version_1_database_is_migrated_and_its_keys_still_work(store: Store) -> None:
    keys = {uuid.uuid4(): f"{i:032x}" for i in range(3)}
    store.write(
        WriteBatch(users=[UserRecord(uid, f"u{i}", f"x{i}", T0 + i) for i, uid in enumerate(keys)])
    )
    _as_version_1(store, keys)
    assert store.schema_version() == 1

    store.create_schema()
    assert store.schema_version() == SCHEMA_VERSION
    assert sorted(_stored_keys(store)) == sorted(key_digest(k) for k in keys.values())
    for user_id, key in keys.items():
        found = store.user_by_api_key(key)
        assert found is not None and found.id == user_id
    store.create_schema()  # a second start finds nothing to migrate
    assert store.schema_version() == SCHEMA_VERSION
