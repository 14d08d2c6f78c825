"""A small, valid PDF writer for the session report generate-pdf serves.

Text is set in a Type0 font with Identity-H encoding (two bytes per character, the Unicode
code point) and a ToUnicode CMap, so any name — José, Ахмед, 李雷 — survives text
extraction. The font is not embedded; viewers substitute one.
"""

from __future__ import annotations

import textwrap
import zlib

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 50
LEADING = 14
LINES_PER_PAGE = (PAGE_HEIGHT - 2 * MARGIN) // LEADING
WRAP = 90


def _hex(text: str) -> str:
    codes = [
        ord(ch) if ord(ch) <= 0xFFFF and not 0xD800 <= ord(ch) <= 0xDFFF else 0x3F for ch in text
    ]
    return "<" + "".join(f"{code:04X}" for code in codes) + ">"


def _to_unicode(lines: list[str]) -> bytes:
    highs = sorted({ord(ch) >> 8 for line in lines for ch in line if ord(ch) <= 0xFFFF} | {0})
    highs = [h for h in highs if not 0xD8 <= h <= 0xDF]
    blocks = []
    for i in range(0, len(highs), 100):
        chunk = highs[i : i + 100]
        ranges = "\n".join(f"<{h:02X}00> <{h:02X}FF> <{h:02X}00>" for h in chunk)
        blocks.append(f"{len(chunk)} beginbfrange\n{ranges}\nendbfrange")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _wrap(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    wrapped = []
    for text, size in lines:
        chunks = textwrap.wrap(text, WRAP, break_long_words=True, replace_whitespace=True)
        wrapped += [(chunk, size) for chunk in chunks or [""]]
    return wrapped


def _stream(data: bytes, extra: str = "") -> bytes:
    packed = zlib.compress(data)
    return (
        f"<< /Length {len(packed)} /Filter /FlateDecode{extra} >>\nstream\n".encode()
        + packed
        + b"\nendstream"
    )


def render_pdf(lines: list[tuple[str, int]], *, title: str) -> bytes:
    """A PDF of `lines` ((text, font size) pairs), paginated; returns the file's bytes."""
    lines = _wrap(lines)
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]
    pages = pages or [[]]
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree's number is known
    info = add(f"<< /Title {_hex(title)} /Producer (Didit sandbox) >>".encode())
    to_unicode = add(_stream(_to_unicode([text for page in pages for text, _ in page])))
    descriptor = add(
        b"<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 "
        b"/FontBBox [-1021 -463 1793 1232] /ItalicAngle 0 /Ascent 928 /Descent -236 "
        b"/CapHeight 729 /StemV 80 >>"
    )
    cid_font = add(
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /DejaVuSans "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/FontDescriptor " + f"{descriptor} 0 R".encode() + b" /DW 600 >>"
    )
    font = add(
        f"<< /Type /Font /Subtype /Type0 /BaseFont /DejaVuSans /Encoding /Identity-H "
        f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>".encode()
    )
    tree = len(objects) + 1 + 2 * len(pages)
    page_refs = []
    for page in pages:
        content = ["BT", f"{MARGIN} {PAGE_HEIGHT - MARGIN} Td"]
        for text, size in page:
            # Move down by more than the font size, so extractors see a new line.
            step = max(LEADING, round(size * 1.5))
            content.append(f"/F1 {size} Tf {_hex(text)} Tj 0 -{step} Td")
        content.append("ET")
        stream = add(_stream("\n".join(content).encode("ascii")))
        page_refs.append(
            add(
                f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {stream} 0 R >>".encode()
            )
        )
    kids = " ".join(f"{ref} 0 R" for ref in page_refs)
    add(f"<< /Type /Pages /Kids [{kids}] /Count {len(page_refs)} >>".encode())
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R >>".encode()

    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
