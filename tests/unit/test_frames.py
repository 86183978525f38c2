"""The binary frame format: what is compressed, what goes raw, and that any zlib reads it."""

import zlib

import numpy as np
import pytest

from nnplayground import frames
from nnplayground.frames import COMPRESS_FROM, Frame, decode_frame, encode_frame


def smooth_grid() -> np.ndarray:
    x, y = np.meshgrid(np.linspace(-1, 1, 100), np.linspace(-1, 1, 100))
    return np.rint(255 / (1 + np.exp(-8 * (x**2 + y**2 - 0.5)))).astype(np.uint8)  # (100, 100): a circle's boundary


def sample_frame() -> Frame:
    rng = np.random.default_rng(0)
    return Frame({"seq": 3, "state": {"epoch": 12}}, {
        "grid": smooth_grid(),
        "neurons": rng.integers(0, 256, (6, 20, 20), dtype=np.uint8),  # 2,400 bytes: under COMPRESS_FROM
        "history": rng.standard_normal((3, 50)).astype(np.float32),
    })


def sections(data: bytes) -> dict[str, dict]:
    return {s["name"]: s for s in decode_frame(data).header["sections"]}


def test_large_uint8_sections_are_compressed_small_ones_and_floats_go_raw() -> None:
    frame = sample_frame()
    data = encode_frame(frame)
    by_name = sections(data)
    assert by_name["grid"]["zlib"] and by_name["grid"]["length"] < 10_000 / 2
    assert not by_name["neurons"]["zlib"] and by_name["neurons"]["length"] == 2_400 < COMPRESS_FROM
    assert not by_name["history"]["zlib"]
    decoded = decode_frame(data)
    assert decoded.header["seq"] == 3 and decoded.header["state"] == {"epoch": 12}
    for name, arr in frame.arrays.items():
        np.testing.assert_array_equal(decoded.arrays[name], arr)
        assert decoded.arrays[name].dtype == arr.dtype
    assert not any(s["zlib"] for s in sections(encode_frame(frame, compress=False)).values())


def test_the_compressed_grid_is_a_plain_zlib_stream_whichever_compressor_wrote_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """isal when installed, the standard library otherwise: the browser's inflate reads either."""
    grid = smooth_grid()
    raw = grid.tobytes()
    assert zlib.decompress(frames.deflate(raw)) == raw
    monkeypatch.setattr(frames, "deflate", lambda data: zlib.compress(data, 1))
    data = encode_frame(Frame({}, {"grid": grid}))
    np.testing.assert_array_equal(decode_frame(data).arrays["grid"], grid)


def test_isal_is_the_compressor_when_installed() -> None:
    pytest.importorskip("isal")
    assert hasattr(frames, "_isal_compress")


@pytest.mark.parametrize("arr", [np.zeros(3), np.zeros(3, dtype=">f4"), np.zeros(3, dtype=np.int32)])
def test_other_dtypes_are_refused(arr: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unsupported dtype"):
        encode_frame(Frame({}, {"x": arr}))


def test_the_header_is_the_same_json_text_with_either_encoder() -> None:
    """orjson when installed, the standard library otherwise: one compact JSON text, so the
    browser and decode_frame read the same header."""
    import json

    header = {
        "type": "frame", "id": "séance", "seq": 7,
        "state": {"running": True, "train_loss": 0.030709920451045036, "best_epoch": None, "learning_rate": 0.03},
        "confusion": {"labels": [0, 1], "train": [[119, 0], [0, 131]]}, "extent": [-6.0, 6.0],
    }
    standard = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    assert frames.header_json(header) == standard
    assert decode_frame(encode_frame(Frame(header))).header == {**header, "sections": []}


def test_orjson_writes_the_header_when_installed() -> None:
    pytest.importorskip("orjson")
    assert frames.header_json({"loss": float("nan")}) == b'{"loss":null}'  # JSON.parse cannot read NaN
