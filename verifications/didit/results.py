"""The small typed results DiditClient returns besides raw JSON: a created session, a PDF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests

from .errors import DiditUnavailable

PDF_CHUNK = 64 * 1024


@dataclass(frozen=True)
class CreatedSession:
    """What Didit answers to a create-session call."""

    session_id: str
    url: str
    status: str
    session_number: int | None = None
    vendor_data: str | None = None
    workflow_id: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


class PdfDownload:
    """A streamed PDF from generate-pdf; use as a context manager and iterate its chunks."""

    def __init__(self, response: requests.Response, *, session_id: str, operation: str) -> None:
        self._response = response
        self.operation = operation
        self.content_type = response.headers.get("Content-Type", "application/pdf")
        length = response.headers.get("Content-Length")
        self.content_length = int(length) if length and length.isdigit() else None
        self.filename = _filename(response.headers.get("Content-Disposition", "")) or (
            f"session_{session_id}.pdf"
        )

    def iter_bytes(self, chunk_size: int = PDF_CHUNK) -> Iterator[bytes]:
        """Yield the body in chunks; never holds the whole report in memory."""
        try:
            yield from self._response.iter_content(chunk_size=chunk_size)
        except requests.RequestException as exc:
            raise DiditUnavailable(
                f"connection lost while downloading the report ({type(exc).__name__})",
                operation=self.operation,
            ) from None
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> PdfDownload:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


def _filename(disposition: str) -> str | None:
    match = _FILENAME.search(disposition)
    if not match:
        return None
    # Only the last path component, and only characters safe in a download header.
    name = re.sub(r"[^A-Za-z0-9._-]", "_", match.group(1).strip().split("/")[-1])
    return name or None
