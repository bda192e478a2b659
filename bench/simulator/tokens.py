"""Opaque pagination tokens: where the next page starts, bound to its account, region, query."""

from __future__ import annotations

import base64
import hashlib
import hmac

_KEY = b"fleetstream-bench-simulator"


class BadTokenError(ValueError):
    """A NextToken this simulator did not issue for this query (EC2: InvalidParameterValue)."""


def _mac(body: bytes) -> str:
    return hmac.new(_KEY, body, hashlib.sha256).hexdigest()[:16]


def encode(scope: str, offset: int, query: str = "") -> str:
    """A token for the page starting at offset of scope (e.g. account/region/DescribeInstances).

    query is a digest of the request's filters: a token is only valid for the same query, as
    AWS rejects a NextToken replayed with different filters.
    """
    body = f"{scope}|{offset}|{query}".encode()
    return base64.urlsafe_b64encode(body + b"|" + _mac(body).encode()).decode()


def decode(token: str, scope: str, query: str = "") -> int:
    """The offset a token points at; BadTokenError if forged, truncated or for another scope."""
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        body, mac = raw.rsplit(b"|", 1)
        token_scope, offset_text, token_query = body.decode().split("|")
        offset = int(offset_text)
    except ValueError as exc:
        raise BadTokenError("The token is invalid") from exc
    if not hmac.compare_digest(mac.decode(), _mac(body)):
        raise BadTokenError("The token is invalid")
    if token_scope != scope or token_query != query:
        raise BadTokenError("The token was issued for another request")
    return offset


def query_digest(parts: list[tuple[str, str]]) -> str:
    """A short, order-insensitive digest of a request's filter parameters."""
    text = "&".join(f"{k}={v}" for k, v in sorted(parts))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
