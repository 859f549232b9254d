"""Schema migrations of the exchange's database, one function per version step."""

from __future__ import annotations

from typing import Any

from exchange_ref.keys import key_digest

__all__ = ["digest_api_keys"]


def digest_api_keys(conn: Any, p: str) -> None:
    """Version 1 -> 2: replace each stored API key by its digest (the keys keep working).

    `conn` is a DBAPI connection inside the migration's transaction; `p` its parameter marker."""
    conn.execute("ALTER TABLE users RENAME COLUMN api_key TO api_key_digest")
    rows = conn.execute("SELECT id, api_key_digest FROM users").fetchall()
    if rows:
        conn.cursor().executemany(
            f"UPDATE users SET api_key_digest = {p} WHERE id = {p}",
            [(key_digest(key), user_id) for user_id, key in rows],
        )
    conn.execute("UPDATE schema_version SET version = 2")
