"""Credentials as Didit's docs describe them: OAuth client-credentials tokens and API keys.

No response ever echoes a credential back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass

from .config import SandboxConfig


class AuthError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Credential:
    """Who is calling: `key` identifies the credential for rate limiting; `user` for reviews."""

    key: str
    user: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(payload: dict, secret: bytes) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def read_jwt(token: str, secret: bytes) -> dict | None:
    """The payload of a token this sandbox signed, or None."""
    try:
        header, body, signature = token.split(".")
        expected = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_b64(expected), signature):
            return None
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, binascii.Error):
        return None


class Authenticator:
    def __init__(self, cfg: SandboxConfig, secret: bytes) -> None:
        self.cfg = cfg
        self.secret = secret
        self._tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self._lock = threading.Lock()

    def issue_token(self, authorization: str | None, grant_type: str | None) -> dict:
        client_id, client_secret = _basic(authorization)
        good_id = hmac.compare_digest(client_id.encode(), self.cfg.client_id.encode())
        good_secret = hmac.compare_digest(client_secret.encode(), self.cfg.client_secret.encode())
        if not (good_id and good_secret):
            raise AuthError(401, "Invalid client credentials.")
        if grant_type != "client_credentials":
            raise AuthError(400, "Unsupported grant_type; use client_credentials.")
        now = time.time()
        expires = now + self.cfg.token_ttl
        payload = {
            "iss": "https://didit.me",
            "iat": int(now),
            "exp": int(expires),
            "sub": "sandbox-application",
            "client_id": self.cfg.client_id,
            "organization_id": "sandbox-organization",
            "jti": secrets.token_hex(8),
        }
        token = jwt(payload, self.secret)
        with self._lock:
            self._tokens[token] = expires
        return {
            "iss": payload["iss"],
            "iat": payload["iat"],
            "sub": payload["sub"],
            "client_id": self.cfg.client_id,
            "organization_id": payload["organization_id"],
            "expires_in": self.cfg.token_ttl,
            "exp": payload["exp"],
            "access_token": token,
        }

    def expire_all(self) -> None:
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def check(self, headers, *, version: str) -> Credential:
        """The caller's credential, or AuthError with the status this API version uses."""
        authorization = headers.get("Authorization") or ""
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            with self._lock:
                expires = self._tokens.get(value.strip())
            if expires is None:
                raise AuthError(401, "Invalid access token.")
            if time.time() >= expires:
                raise AuthError(401, "Access token has expired.")
            return Credential(key=f"client:{self.cfg.client_id}", user=self.cfg.client_id)
        key = headers.get("x-api-key")
        denied = 403 if version == "v3" else 401
        if key is None:
            raise AuthError(denied, "Authentication credentials were not provided.")
        if not hmac.compare_digest(key.encode(), self.cfg.api_key.encode()):
            raise AuthError(denied, "Invalid API key.")
        return Credential(key="api-key", user="API")


def _basic(authorization: str | None) -> tuple[str, str]:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret
