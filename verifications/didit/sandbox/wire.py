"""Requests and responses as the sandbox's handlers see them, independent of the server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from .auth import Credential


class HttpError(Exception):
    """Stop handling and answer `status` with a DRF-style JSON body."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


@dataclass
class Request:
    method: str
    path: str
    raw_query: str
    headers: object  # anything with a case-insensitive .get(), like http.client's headers
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    version: str = "v3"
    credential: Credential | None = None

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.raw_query, keep_blank_values=True))

    def json(self) -> dict:
        """The body as a dict: JSON, or a form; 400 for anything else."""
        if not self.body.strip():
            return {}
        content_type = (self.headers.get("Content-Type") or "").lower()
        if "application/x-www-form-urlencoded" in content_type:
            return dict(parse_qsl(self.body.decode("utf-8", "replace")))
        try:
            data = json.loads(self.body)
        except UnicodeDecodeError:
            raise HttpError(400, {"detail": "JSON parse error - body is not UTF-8."}) from None
        except ValueError as error:
            raise HttpError(400, {"detail": f"JSON parse error - {error}"}) from None
        if not isinstance(data, dict):
            kind = type(data).__name__
            raise HttpError(
                400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
            )
        return data


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # send the headers and part of the body, then close the connection


def json_response(status: int, payload, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


def not_found() -> Response:
    return json_response(404, {"detail": "Not found."})
