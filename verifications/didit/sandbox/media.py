"""Presigned media URLs pointing at the sandbox itself, and the images they serve.

URLs look like S3 presigned URLs (`X-Amz-Expires`, `X-Amz-Date`, `X-Amz-Signature`) and
expire; a fresh set is issued on every decision fetch. Images are small, real JPEG/PNG
files drawn with Pillow (a coloured card with initials), cached per session and kind.
"""

from __future__ import annotations

import colorsys
import hashlib
import hmac
import io
import time
import unicodedata
import zlib
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import quote

from PIL import Image, ImageDraw, ImageFont

from .wire import Request, Response

IMAGE_KINDS = {
    "portrait", "front", "back", "full_front", "full_back", "reference", "source", "target",
    "nfc_portrait", "poa",
}  # fmt: skip
VIDEO_KINDS = {"front_video", "back_video", "liveness_video"}
AMZ_DATE = "%Y%m%dT%H%M%SZ"
# A minimal ISO-BMFF header: enough for a client to see a video file; not playable.
VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free"


class MediaSigner:
    def __init__(self, *, base_url: str, ttl: int, secret: bytes) -> None:
        self.base_url = base_url
        self.ttl = ttl
        self.secret = secret

    def _signature(self, path: str, stamp: str, expires: str) -> str:
        message = f"{path}\n{stamp}\n{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def url(self, session_id: str, kind: str) -> str:
        ext = "mp4" if kind in VIDEO_KINDS else "png" if kind == "poa" else "jpg"
        path = f"/media/{session_id}/{kind}.{ext}"
        stamp = datetime.now(UTC).strftime(AMZ_DATE)
        expires = str(self.ttl)
        signature = self._signature(path, stamp, expires)
        return (
            f"{self.base_url}{path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}"
            f"&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}"
        )

    def check(self, path: str, query: dict[str, str]) -> tuple[str, str] | None:
        """None when the URL is valid, else an S3 (code, message) pair."""
        stamp = query.get("X-Amz-Date", "")
        expires = query.get("X-Amz-Expires", "")
        given = query.get("X-Amz-Signature", "")
        if not (stamp and expires and given):
            return (
                "AccessDenied",
                "Query-string authentication requires the Signature, "
                "Expires and AWSAccessKeyId parameters",
            )
        expected = self._signature(path, stamp, expires)
        if not hmac.compare_digest(expected, given):
            return (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        try:
            signed_at = datetime.strptime(stamp, AMZ_DATE).replace(tzinfo=UTC).timestamp()
            lifetime = int(expires)
        except ValueError:
            return ("AuthorizationQueryParametersError", "Invalid date or expiry.")
        if int(time.time()) > signed_at + lifetime:
            return ("AccessDenied", "Request has expired")
        return None


def s3_error(code: str, message: str, resource: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<Resource>{quote(resource)}</Resource>"
        f"<RequestId>{hashlib.sha1(resource.encode()).hexdigest()[:16].upper()}</RequestId>"  # noqa: S324
        "</Error>"
    ).encode()


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isprintable())


def _initials(name: str) -> str:
    letters = [part[0] for part in _ascii(name).split() if part[:1].isalpha()]
    return "".join(letters[:2]).upper() or "?"


@lru_cache(maxsize=256)
def image_bytes(*, kind: str, name: str, label: str, seed: int) -> tuple[bytes, str]:
    """A small image for one media kind, as (bytes, content type)."""
    hue = seed % 360
    background = _hsv(hue, 0.35, 0.95)
    accent = _hsv((hue + 180) % 360, 0.6, 0.55)
    portrait = kind in ("portrait", "reference", "source", "target", "nfc_portrait")
    size = (240, 300) if portrait else (428, 270) if kind != "poa" else (300, 420)
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=28)
    small = ImageFont.load_default(size=14)
    if portrait:
        draw.ellipse((60, 50, 180, 190), fill=accent)
        draw.rectangle((40, 200, 200, 300), fill=accent)
        draw.text((120, 120), _initials(name), fill="white", font=font, anchor="mm")
    else:
        draw.rectangle((0, 0, size[0], 44), fill=accent)
        draw.text((12, 12), _ascii(label)[:40], fill="white", font=small)
        draw.rectangle((16, 64, 116, 190), outline=accent, width=3)
        draw.text((66, 127), _initials(name), fill=accent, font=font, anchor="mm")
        draw.text((132, 70), _ascii(name)[:34], fill="black", font=small)
        draw.text((132, 96), kind.replace("_", " "), fill="black", font=small)
    buffer = io.BytesIO()
    if kind == "poa":
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue(), "image/png"
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue(), "image/jpeg"


def _hsv(hue: int, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue / 360, saturation, value)
    return int(r * 255), int(g * 255), int(b * 255)


def serve(app, request: Request) -> Response:
    """GET /media/<session_id>/<kind>.<ext>: check the presigned URL, then the bytes."""
    parts = request.path.split("/")
    xml = {"Content-Type": "application/xml"}
    if len(parts) != 4 or "." not in parts[3]:
        return Response(
            404, s3_error("NoSuchKey", "The specified key does not exist.", request.path), xml
        )
    session_id, (kind, _, _ext) = parts[2], parts[3].partition(".")
    problem = app.signer.check(request.path, request.query)
    if problem is not None:
        return Response(403, s3_error(*problem, request.path), xml)
    with app.lock:
        session = app.store.get(session_id)
        if session is None or kind not in IMAGE_KINDS | VIDEO_KINDS:
            return Response(
                404, s3_error("NoSuchKey", "The specified key does not exist.", request.path), xml
            )
        person = app.store.person(session)
        document = app.store.facts(session).document
    if kind in VIDEO_KINDS:
        return Response(200, VIDEO_BYTES, {"Content-Type": "video/mp4"})
    body, content_type = image_bytes(
        kind=kind,
        name=person.full_name,
        label=document.document_type if document else "Didit",
        seed=session.seed ^ zlib.crc32(kind.encode()),
    )
    return Response(200, body, {"Content-Type": content_type, "Cache-Control": "private"})
