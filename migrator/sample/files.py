"""The uploaded files of a synthetic export: small real PNG images and small text documents.

Images are genuine PNGs (zlib-compressed scanlines with CRCs) so that
anything decoding or inlining them meets a valid file; other documents are
text of several types, so conversions that depend on the type are exercised.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass

from migrator.sample import vocabulary as vocab

IMAGE_SHARE = 0.6
_DOCUMENTS = (
    ("txt", "text/plain", "Plain Text"),
    ("csv", "text/csv", "CSV"),
    ("md", "text/markdown", "Markdown (raw)"),
    ("json", "application/json", "JSON"),
)


@dataclass(frozen=True)
class SampleFile:
    id: str
    name: str
    title: str
    mimetype: str
    filetype: str
    pretty_type: str
    data: bytes
    width: int | None = None
    height: int | None = None


def draw_file(rng: random.Random, file_id: str) -> SampleFile:
    """One file: mostly images (they go inline in Teams), otherwise a document (uploaded to SharePoint)."""
    topic = rng.choice(vocab.FILE_TOPICS)
    suffix = rng.randint(1, 999)
    if rng.random() < IMAGE_SHARE:
        width, height = rng.randint(8, 64), rng.randint(8, 64)
        return SampleFile(
            file_id,
            f"{topic}-{suffix}.png",
            f"{topic.capitalize()} {suffix}",
            "image/png",
            "png",
            "PNG",
            png(width, height, rng),
            width,
            height,
        )
    extension, mimetype, pretty = rng.choice(_DOCUMENTS)
    title = f"{topic.capitalize()} {suffix}"
    return SampleFile(
        file_id, f"{topic}-{suffix}.{extension}", title, mimetype, extension, pretty, _document(extension, title, rng)
    )


def png(width: int, height: int, rng: random.Random) -> bytes:
    """An RGB PNG with a two-colour diagonal pattern (so no two images are alike)."""
    first = bytes(rng.randrange(256) for _ in range(3))
    second = bytes(rng.randrange(256) for _ in range(3))
    stripe = rng.randint(2, 8)
    rows = b"".join(
        b"\x00" + b"".join(first if ((x + y) // stripe) % 2 else second for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 9)) + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _document(extension: str, title: str, rng: random.Random) -> bytes:
    lines = [" ".join(rng.choices(vocab.WORDS, k=rng.randint(4, 12))) for _ in range(rng.randint(2, 40))]
    if extension == "csv":
        text = "id,name,amount\n" + "".join(
            f"{i},{rng.choice(vocab.WORDS)},{rng.randint(1, 10_000)}\n" for i in range(len(lines))
        )
    elif extension == "md":
        text = (
            f"# {title}\n\n"
            + "\n".join(f"- {line}" for line in lines)
            + "\n\n"
            + rng.choice(vocab.UNICODE_PHRASES)
            + "\n"
        )
    elif extension == "json":
        text = '{"title": "' + title + '", "lines": [' + ", ".join(f'"{line}"' for line in lines) + "]}\n"
    else:
        text = "\n".join(lines) + "\n"
    return text.encode("utf-8")
