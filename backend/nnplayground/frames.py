"""Binary frame format shared by the engine (encoder) and clients (decoder); see docs/protocol.md.

Layout: `u32 little-endian header length` + `JSON header (UTF-8)` + binary sections, in the
order `header["sections"]` lists them. Each section is raw little-endian data of the named dtype
and shape, zlib-compressed when `zlib` is true.
"""

import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_DTYPES = {"uint8": np.uint8, "float32": np.float32}


@dataclass
class Frame:
    """One view of a session: a JSON header plus named arrays (uint8 grid, float32 history)."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def encode_frame(frame: Frame, compress: bool = True) -> bytes:
    """Frame -> bytes. zlib level 1 shrinks a 100x100 uint8 grid about fivefold; float32 sections
    (loss histories) barely compress, so they go raw and cost no CPU."""
    sections = []
    blobs = []
    for name, arr in frame.arrays.items():
        dtype = str(arr.dtype)
        if dtype not in _DTYPES:
            raise ValueError(f"unsupported dtype {dtype} for section {name}")
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        squeeze = compress and dtype == "uint8"
        blob = zlib.compress(raw, 1) if squeeze else raw
        sections.append({"name": name, "dtype": dtype, "shape": list(arr.shape), "length": len(blob), "zlib": squeeze})
        blobs.append(blob)
    header = json.dumps({**frame.header, "sections": sections}, separators=(",", ":")).encode()
    return struct.pack("<I", len(header)) + header + b"".join(blobs)


def decode_frame(data: bytes) -> Frame:
    """bytes -> Frame; the reference decoder (the browser's is in frontend/js/socket.js)."""
    (hlen,) = struct.unpack_from("<I", data, 0)
    header = json.loads(data[4 : 4 + hlen].decode())
    offset = 4 + hlen
    arrays: dict[str, np.ndarray] = {}
    for sec in header.get("sections", []):
        blob = data[offset : offset + sec["length"]]
        offset += sec["length"]
        raw = zlib.decompress(blob) if sec["zlib"] else blob
        arrays[sec["name"]] = np.frombuffer(raw, dtype=_DTYPES[sec["dtype"]]).reshape(sec["shape"])
    return Frame(header=header, arrays=arrays)
