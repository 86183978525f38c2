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

try:  # ISA-L: the same zlib stream as zlib's level 1, about 3x faster for a 100x100 grid (bench/frames.py)
    from isal.isal_zlib import compress as _isal_compress

    def deflate(data: bytes) -> bytes:
        return _isal_compress(data, 1)
except ImportError:  # a platform without isal's wheel: the standard library, same format

    def deflate(data: bytes) -> bytes:
        return zlib.compress(data, 1)

try:  # orjson: a frame's header in 3 µs against 25 µs (a thirteenth of the frame builder's time)
    import orjson

    def header_json(header: dict[str, Any]) -> bytes:
        """Compact UTF-8 JSON; NaN and infinities become null, which every JSON parser reads."""
        return orjson.dumps(header, option=orjson.OPT_NON_STR_KEYS)
except ImportError:  # the standard library: the same JSON text, but NaN written as NaN

    def header_json(header: dict[str, Any]) -> bytes:
        """Compact UTF-8 JSON."""
        return json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()

_DTYPES = {"uint8": np.uint8, "float32": np.float32}
_WIRE = {np.dtype(t): (name, np.dtype(t).newbyteorder("<")) for name, t in _DTYPES.items()}  # native -> wire
COMPRESS_FROM = 4096  # bytes: smaller uint8 sections go raw


@dataclass
class Frame:
    """One view of a session: a JSON header plus named arrays (uint8 grid, float32 history)."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def encode_frame(frame: Frame, compress: bool = True) -> bytes:
    """Frame -> bytes. zlib's format at its fastest level (`deflate`) shrinks a 100x100 uint8 grid
    about fivefold; float32 sections (loss histories) barely compress, so they go raw and cost no
    CPU, and so do uint8 sections under COMPRESS_FROM bytes (a small network's neuron maps: zlib
    saved a quarter of 2.4 KB and cost as much CPU as the 10 KB grid, its set-up dominating)."""
    sections = []
    blobs = []
    for name, arr in frame.arrays.items():
        wire = _WIRE.get(arr.dtype)  # a dict lookup: str(dtype) cost 30 µs a frame
        if wire is None:
            raise ValueError(f"unsupported dtype {arr.dtype} for section {name}")
        dtype, little = wire
        raw = np.ascontiguousarray(arr, dtype=little).tobytes()
        squeeze = compress and dtype == "uint8" and len(raw) >= COMPRESS_FROM
        blob = deflate(raw) if squeeze else raw
        sections.append({"name": name, "dtype": dtype, "shape": list(arr.shape), "length": len(blob), "zlib": squeeze})
        blobs.append(blob)
    header = header_json({**frame.header, "sections": sections})
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
