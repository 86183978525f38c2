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
from typing import Annotated, Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import Settings
from .data import GENERATORS
from .data.tabular import MAX_FEATURES
from .engine import checkpoint as engine_checkpoint
from .engine.group import GroupKey
from .engine.history import History
from .engine.module import PlainNetwork
from .engine.network import buffer_shapes, parameter_shapes
from .engine.optim import OPTIMIZERS
from .engine.session import Session
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


def session_of(config: dict[str, Any], custom_data: dict[str, Any] | None = None) -> Session:
    """A throwaway engine Session for a config (and the user's own data): its data and network
    shape are exactly what the engine would build (tables feed all their columns, not features)."""
    minimal = {
        "format": engine_checkpoint.FORMAT, "version": engine_checkpoint.VERSION, "config": config,
        "progress": {}, "custom_data": custom_data, "model": {},
    }
    try:
        session, _, _ = engine_checkpoint.restore("export", minimal)
    except (TypeError, KeyError, IndexError) as e:  # malformed data of one's own
        raise ValueError(f"the checkpoint's data cannot be rebuilt: {e}") from None
    return session


def network_key(ckpt: dict[str, Any]) -> GroupKey:
    """The GroupKey that shapes a checkpoint's network (config, and custom_data if any)."""
    return session_of(ckpt["config"], ckpt.get("custom_data")).key()


def torch_state_dict(ckpt: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The checkpoint's weights as the state_dict of PlainNetwork (torch's layout and names)."""
    model = PlainNetwork(network_key(ckpt)).load_row(ckpt["model"])
    return {name: t.detach().clone().contiguous() for name, t in model.state_dict().items()}


def _lists(tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    return {name: t.tolist() for name, t in tensors.items()}


def json_export(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint as plain JSON values; `import` reads it back."""
    out = {k: v for k, v in ckpt.items() if k not in ("model", "optimizer", "custom_data")}
    out.update(format=JSON_FORMAT, checkpoint_format=ckpt["format"], exported=_now())
    out["model"] = _lists(ckpt["model"])
    out["optimizer"] = _lists(ckpt.get("optimizer", {}))
    out["state_dict"] = _lists(torch_state_dict(ckpt))
    custom = ckpt.get("custom_data") or {}  # the user's own data: its x and y tensors as lists too
    out["custom_data"] = {k: v.tolist() if isinstance(v, torch.Tensor) else v for k, v in custom.items()} or None
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
        session = session_of(ckpt["config"], ckpt.get("custom_data"))
        key = session.key()
        data = None if config.data.dataset in GENERATORS else _embedded_data(session)
        return python_script(config, key, str(ckpt.get("id") or "session"), progress, weights, data).encode()
    if fmt == "safetensors":
        return _safetensors(ckpt)
    if fmt == "onnx":
        return _onnx(ckpt)
    raise ValueError(f"unknown format {fmt!r}; choose one of {list(FORMATS)}")


def _embedded_data(session: Session) -> dict[str, tuple[list[Any], list[float]]]:
    """Data that no generator makes (a table, the user's own): each part's network inputs and
    labels, as the engine feeds them, for the python export to carry literally."""
    features = list(session.config.features)
    names = {"train": "train", "val": "validation", "test": "test"}
    return {
        names[part]: (session.data.network_inputs(part, features).tolist(), session.data.labels[part].tolist())
        for part in names
        if len(session.data.labels[part])
    }


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

    key = network_key(ckpt)
    model = PlainNetwork(key).load_row(ckpt["model"]).eval()
    example = torch.zeros(2, len(key.features))
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
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
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


class _Table(_Strict):
    name: str = Field(max_length=200)
    columns: list[Annotated[str, Field(max_length=200)]] = Field(min_length=1, max_length=MAX_FEATURES)
    class_names: list[Annotated[str, Field(max_length=200)]] | None = Field(None, min_length=2, max_length=64)
    problem: Literal["classification", "regression"]


def _custom_data(value: Any, max_points: int) -> dict[str, Any] | None:
    """The user's own data of a checkpoint, checked: names, sizes, finite values, class indices."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("custom_data must be a dict")
    try:
        table = _Table.model_validate(value)
    except ValidationError as e:
        raise _readable(e, "custom_data") from None
    y_in = value.get("y")
    n = len(y_in) if isinstance(y_in, (list, torch.Tensor)) else -1
    if not 1 <= n <= max_points:
        raise ValueError(f"custom_data must hold 1 to {max_points} rows (got {max(n, 0)})")
    x = _tensor("custom_data.x", value.get("x"), (n, len(table.columns)))
    y = _tensor("custom_data.y", y_in, (n,))
    if table.class_names is not None and not bool(((y >= 0) & (y < len(table.class_names)) & (y == y.round())).all()):
        raise ValueError("custom_data.y must be class indices below len(class_names)")
    return {**table.model_dump(), "x": x, "y": y}


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
    if obj.get("format") != engine_checkpoint.FORMAT:
        raise ValueError(f"not an nnplayground checkpoint (format must be {engine_checkpoint.FORMAT!r})")
    try:
        SessionConfig.model_validate(obj.get("config"))  # first here, for a readable message
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
    # A stored session is never refused for a limit lowered since; an import is.
    custom = _custom_data(obj.get("custom_data"), settings.max_points if settings else 100_000)
    session = session_of(config.model_dump(mode="json"), custom)
    key = session.key()
    n_train = session.data.n_train
    epoch_len = -(-n_train // config.training.effective_batch(n_train))
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
    for name, high in (("epoch", 10**9), ("step", 10**12), ("steps_in_epoch", epoch_len - 1)):
        value = counters_in.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= high:
            counters[name] = int(value)
    return {
        "format": engine_checkpoint.FORMAT, "version": engine_checkpoint.VERSION,
        "id": str(obj.get("id", ""))[:64], "config": config.model_dump(mode="json"),
        "model": params, "optimizer": slots, "hyper": hyper, "counters": counters,
        "progress": progress.model_dump(), "history": history.model_dump(), "custom_data": custom,
    }
