"""API keys: random tokens, stored only as sha256 hashes, each scoped to one site."""

from __future__ import annotations

import hashlib
import secrets

import psycopg

Conn = psycopg.Connection[tuple[object, ...]]

TOKEN_PREFIX = "ffk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(conn: Conn, site_id: str, name: str) -> str:
    """Store a new key for ``site_id``; returns the token (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute(
            "INSERT INTO api_key (key_hash, site_id, name) VALUES (%s, %s, %s)",
            (hash_token(token), site_id, name),
        )
    return token


def key_site(conn: Conn, token: str) -> str | None:
    """The site a token is scoped to, or None for an unknown token."""
    row = conn.execute(
        "SELECT site_id FROM api_key WHERE key_hash = %s", (hash_token(token),)
    ).fetchone()
    return str(row[0]) if row else None
