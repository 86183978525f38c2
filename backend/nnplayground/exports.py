"""Export and import of sessions: the one module outside the engine and the store that handles tensors.

Exports start from an engine checkpoint (engine/checkpoint.py: config, row-layout weights `W{i}`
(in, out) and `b{i}` (1, out), optimiser state, counters, progress, history):

- `pt`: that checkpoint plus `state_dict`, the weights in torch's layout (`layers.{i}.linear.weight`
  ...) for `PlainNetwork` or the exported script's `Network`; torch.save, loadable with
  `torch.load(..., weights_only=True)`.
- `safetensors`: the torch-layout weights, config in the metadata (optional `safetensors`).
- `onnx`: the network in eval mode, input `features` (points, features), output `logits`
  (optional `onnx`).
- `python`: a standalone training script (export_script.py).
- `json`: the checkpoint with every tensor as nested lists.

Imports (`pt` or `json`) are never unpickled freely: pt goes through torch's weights_only loader,
and whatever comes in is rebuilt field by field from checked values before the engine sees it.
"""

import importlib.util
import io
import json
import math
import zipfile
from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import Settings
from .data import split3
from .engine import checkpoint as engine_checkpoint
from .engine.group import GroupKey
from .engine.history import History
from .engine.module import PlainNetwork
from .engine.network import buffer_shapes, parameter_shapes
from .engine.optim import OPTIMIZERS
from .export_script import python_script
from .schemas import LimitError, SessionConfig, check_limits

FORMATS = ("pt", "safetensors", "onnx", "python", "json")
JSON_FORMAT = "nnplayground-json"
MEDIA_TYPES = {
    "pt": "application/octet-stream",
    "safetensors": "application/octet-stream",
    "onnx": "application/octet-stream",
    "python": "text/x-python; charset=utf-8",
    "json": "application/json",
}
EXTENSIONS = {"pt": "pt", "safetensors": "safetensors", "onnx": "onnx", "python": "py", "json": "json"}


class ExportUnavailable(Exception):
    """The format needs an optional package that is not installed; the message says how to add it."""


def network_key(config: SessionConfig) -> GroupKey:
    """The GroupKey that shapes a config's network (the batch cap does not shape it: 1 here)."""
    return GroupKey(
        features=tuple(config.features), widths=tuple(config.network.hidden_layers),
        activations=tuple(config.network.activations),
        n_out=config.num_classes if config.loss == "cce" else 1, loss=config.loss,
        optimizer=config.training.optimizer, batch_cap=1, leaky_slope=config.network.leaky_relu_slope,
        huber_delta=config.training.huber_delta if config.loss == "huber" else 1.0,
        batch_norm=config.network.batch_norm, dropout=config.network.dropout,
    )


def torch_state_dict(ckpt: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The checkpoint's weights as the state_dict of PlainNetwork (torch's layout and names)."""
    config = SessionConfig.model_validate(ckpt["config"])
    model = PlainNetwork(network_key(config)).load_row(ckpt["model"])
    return {name: t.detach().clone().contiguous() for name, t in model.state_dict().items()}


def _lists(tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    return {name: t.tolist() for name, t in tensors.items()}


def json_export(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint as plain JSON values; `import` reads it back."""
    out = {k: v for k, v in ckpt.items() if k not in ("model", "optimizer")}
    out.update(format=JSON_FORMAT, checkpoint_format=ckpt["format"], exported=_now())
    out["model"] = _lists(ckpt["model"])
    out["optimizer"] = _lists(ckpt.get("optimizer", {}))
    out["state_dict"] = _lists(torch_state_dict(ckpt))
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def export(ckpt: dict[str, Any], fmt: str) -> bytes:
    """The session in `fmt`; ExportUnavailable when an optional package is missing."""
    if fmt == "pt":
        buffer = io.BytesIO()
        torch.save({**ckpt, "state_dict": torch_state_dict(ckpt), "exported": _now()}, buffer)
        return buffer.getvalue()
    if fmt == "json":
        # allow_nan: a diverged session's weights may be NaN; Python's json reads them back.
        return json.dumps(json_export(ckpt)).encode()
    if fmt == "python":
        config = SessionConfig.model_validate(ckpt["config"])
        progress = dict(ckpt.get("progress") or {})
        # The row's step counter is exact; the session's copy is refreshed only now and then.
        progress["step"] = (ckpt.get("counters") or {}).get("step", progress.get("step", 0))
        weights = _lists(torch_state_dict(ckpt)) if progress.get("epoch") else None
        return python_script(config, str(ckpt.get("id") or "session"), progress, weights).encode()
    if fmt == "safetensors":
        return _safetensors(ckpt)
    if fmt == "onnx":
        return _onnx(ckpt)
    raise ValueError(f"unknown format {fmt!r}; choose one of {list(FORMATS)}")


def _safetensors(ckpt: dict[str, Any]) -> bytes:
    if importlib.util.find_spec("safetensors") is None:
        raise ExportUnavailable(
            "safetensors export needs the optional package 'safetensors': pip install 'nnplayground[safetensors]'"
        )
    from safetensors.torch import save

    metadata = {"format": "nnplayground", "config": json.dumps(ckpt["config"]),
                "progress": json.dumps(ckpt.get("progress") or {})}
    return save(torch_state_dict(ckpt), metadata=metadata)


def _onnx(ckpt: dict[str, Any]) -> bytes:
    if importlib.util.find_spec("onnx") is None:
        raise ExportUnavailable(
            "ONNX export needs the optional package 'onnx': pip install 'nnplayground[onnx]' and restart the server"
        )
    import warnings

    config = SessionConfig.model_validate(ckpt["config"])
    model = PlainNetwork(network_key(config)).load_row(ckpt["model"]).eval()
    example = torch.zeros(2, len(config.features))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        # dynamo=False: the TorchScript exporter needs only `onnx`; torch.export's would also need onnxscript.
        torch.onnx.export(
            model, (example,), buffer, input_names=["features"], output_names=["logits"],
            dynamic_axes={"features": {0: "points"}, "logits": {0: "points"}}, dynamo=False,
        )
    return buffer.getvalue()


# ---- import ------------------------------------------------------------------------------------


def read_upload(data: bytes, content_type: str | None, max_bytes: int) -> dict[str, Any]:
    """An uploaded pt or json export as a dict (not yet checked); ValueError says why not.

    The content type decides (`application/json`, or `application/octet-stream` for pt); without
    one, the first bytes do: a zip (torch.save's format) or a JSON object.
    """
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in ("application/json", "application/octet-stream", "application/x-pytorch"):
        kind = "application/json" if data.lstrip()[:1] == b"{" else "application/octet-stream"
    if kind == "application/json":
        try:
            obj = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"not a JSON export: {e}") from None
        if not isinstance(obj, dict) or obj.get("format") != JSON_FORMAT:
            raise ValueError(f"not an nnplayground JSON export (format must be {JSON_FORMAT!r})")
        return {**obj, "format": engine_checkpoint.FORMAT}
    return _read_pt(data, max_bytes)


def _read_pt(data: bytes, max_bytes: int) -> dict[str, Any]:
    # Only torch.save's zip format, with every member stored uncompressed as torch writes them:
    # no legacy raw pickles, and no compressed member that could unpack to more than was sent.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise ValueError("not a pt export: expected a torch.save file (a zip archive)") from None
    if any(m.compress_type != zipfile.ZIP_STORED for m in members) or sum(m.file_size for m in members) > max_bytes:
        raise ValueError("not a pt export: unexpected compressed or oversized members")
    try:
        # weights_only: torch's restricted unpickler builds tensors and plain containers only and
        # refuses any other global, so a crafted file cannot run code.
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - anything torch refuses is the client's error
        raise ValueError(f"not a loadable pt export: {e}") from None
    if not isinstance(obj, dict):
        raise ValueError("not an nnplayground checkpoint (expected a dict)")
    return obj


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class _Progress(_Strict):
    epoch: int = Field(0, ge=0, le=10**9)
    step: int = Field(0, ge=0, le=10**12)
    train_loss: float | None = None
    test_loss: float | None = None
    validation_loss: float | None = None
    train_accuracy: float | None = Field(None, ge=0, le=1)
    test_accuracy: float | None = Field(None, ge=0, le=1)
    validation_accuracy: float | None = Field(None, ge=0, le=1)
    best_validation_loss: float | None = None
    best_epoch: int | None = Field(None, ge=0, le=10**9)
    init_count: int = Field(0, ge=0, le=10**9)
    stop_reason: str | None = Field(None, max_length=500)
    data_version: int = Field(1, ge=1, le=10**9)


_SERIES_LIMIT = 2 * 2001  # History keeps at most 2,001 points; leave room, refuse anything huge


class _History(_Strict):
    stride: int = Field(1, ge=1, le=2**40)
    epoch: list[int] = Field(default_factory=list, max_length=_SERIES_LIMIT)
    train_loss: list[float] = Field(default_factory=list, max_length=_SERIES_LIMIT)
    test_loss: list[float] = Field(default_factory=list, max_length=_SERIES_LIMIT)
    train_accuracy: list[float] = Field(default_factory=list, max_length=_SERIES_LIMIT)
    test_accuracy: list[float] = Field(default_factory=list, max_length=_SERIES_LIMIT)
    validation_loss: list[float] = Field(default_factory=list, max_length=_SERIES_LIMIT)
    validation_accuracy: list[float] = Field(default_factory=list, max_length=_SERIES_LIMIT)
    grad_norms: list[Annotated[list[float], Field(max_length=256)]] = Field(
        default_factory=list, max_length=_SERIES_LIMIT, description="per epoch, one gradient norm per layer"
    )


def _tensor(name: str, value: Any, shape: tuple[int, ...]) -> torch.Tensor:
    """A float tensor of exactly `shape` with finite values, from a tensor or nested lists."""
    try:
        t = value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ValueError(f"tensor {name!r} is not a numeric array: {e}") from None
    if not (t.is_floating_point() or t.dtype in (torch.int64, torch.int32)) or tuple(t.shape) != shape:
        raise ValueError(f"tensor {name!r} does not fit the network (expected shape {shape}, got {tuple(t.shape)})")
    t = t.detach().to("cpu", torch.get_default_dtype()).contiguous().clone()
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"tensor {name!r} holds NaN or infinite values")
    return t


def _epoch_len(config: SessionConfig) -> int:
    """Mini-batches per epoch for a config (the split decides how many points train)."""
    n = config.data.num_points
    train, _, _ = split3(np.zeros((n, 2)), np.zeros(n), config.data.train_ratio, config.data.validation_ratio)
    return -(-len(train[0]) // config.training.effective_batch(len(train[0])))


def _readable(e: ValidationError, where: str) -> ValueError:
    """Pydantic's errors as one line: `where.field: message; ...`."""
    items = e.errors(include_url=False, include_context=False, include_input=False)
    return ValueError("; ".join(f"{'.'.join([where, *map(str, i['loc'])])}: {i['msg']}" for i in items))


def validated(obj: Any, settings: Settings | None = None) -> dict[str, Any]:
    """A clean checkpoint rebuilt from `obj`'s checked fields; ValueError says what is wrong.

    Checks the envelope, the config (schema, and `settings`' limits when given), every tensor's
    name, shape and finiteness against the config's network, and the counters and progress, so the
    engine never receives a value it would choke on.
    """
    if not isinstance(obj, dict):
        raise ValueError("not an nnplayground checkpoint (expected a dict)")
    try:
        config = engine_checkpoint.check(obj)
        progress = _Progress.model_validate(obj.get("progress") or {})
        history = _History.model_validate(obj.get("history") or {})
    except ValidationError as e:
        # The model's name says which part of the checkpoint was wrong.
        where = {"SessionConfig": "config", "_Progress": "progress", "_History": "history"}.get(e.title, "checkpoint")
        raise _readable(e, where) from None
    if settings is not None:
        try:
            check_limits(config, settings)
        except LimitError as e:
            raise ValueError(f"{'.'.join(map(str, e.loc))}: {e.message}") from None
    key = network_key(config)
    shapes = {**parameter_shapes(key), **buffer_shapes(key)}
    model = obj.get("model")
    if not isinstance(model, dict):
        raise ValueError("the checkpoint has no model weights")
    missing = [name for name in shapes if name not in model]
    if missing:
        raise ValueError(f"checkpoint tensor {missing[0]!r} is missing for this network")
    params = {name: _tensor(name, model[name], shape) for name, shape in shapes.items()}
    slots_in = obj.get("optimizer") or {}
    if not isinstance(slots_in, dict):
        raise ValueError("the checkpoint's optimiser state is not a dict")
    slots = {}
    for slot in OPTIMIZERS[config.training.optimizer].slots:
        for name in parameter_shapes(key):
            full = f"{slot}.{name}"
            if full in slots_in:
                slots[full] = _tensor(full, slots_in[full], shapes[name])
    if any(len(getattr(history, s)) != len(history.epoch) for s in History.SERIES) or len(history.grad_norms) not in (
        0, len(history.epoch)  # checkpoints from before gradient norms were recorded have none
    ):
        raise ValueError("the checkpoint's history series differ in length")
    hyper_in, counters_in = obj.get("hyper") or {}, obj.get("counters") or {}
    if not isinstance(hyper_in, dict) or not isinstance(counters_in, dict):
        raise ValueError("the checkpoint's hyper and counters must be dicts")
    # Only the optimiser's running scalars come from the file; the config gives every other rate.
    hyper = {}
    for name, low, high in (("t", 0.0, 1e12), ("mu_product", 0.0, 1.0)):
        value = hyper_in.get(name)
        if isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high:
            hyper[name] = float(value)
    # Sizes (batch, points, epoch length) always come from the config; positions are kept if sane.
    counters = {}
    for name, high in (("epoch", 10**9), ("step", 10**12), ("steps_in_epoch", _epoch_len(config) - 1)):
        value = counters_in.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= high:
            counters[name] = int(value)
    return {
        "format": engine_checkpoint.FORMAT, "version": engine_checkpoint.VERSION,
        "id": str(obj.get("id", ""))[:64], "config": config.model_dump(mode="json"),
        "model": params, "optimizer": slots, "hyper": hyper, "counters": counters,
        "progress": progress.model_dump(), "history": history.model_dump(),
    }
