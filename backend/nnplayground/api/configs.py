"""Checking configs from clients against the schema and this server's limits (REST and websocket).

Errors come out as FastAPI's 422 items, `{"loc", "msg", "type"}`, with plain JSON values only:
pydantic's `ctx` may hold exception objects, which are not JSON.
"""

from typing import Any

import pydantic_core
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from ..config import Settings
from ..schemas import LimitError, SessionConfig, check_limits, merge_config

Loc = tuple[str | int, ...]


class ConfigError(Exception):
    """A config refused by the schema or the limits; `errors` are 422 items without a prefix."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(e["msg"] for e in errors))
        self.errors = errors

    def prefixed(self, *prefix: str | int) -> list[dict[str, Any]]:
        """The errors with `prefix` (e.g. "body") in front of every loc."""
        return [{**e, "loc": [*prefix, *e["loc"]]} for e in self.errors]


def validation_items(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as JSON-safe 422 items."""
    return [
        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def limit_item(err: LimitError) -> dict[str, Any]:
    return {"loc": list(err.loc), "msg": err.message, "type": "limit"}


def check_config(config: SessionConfig, settings: Settings) -> SessionConfig:
    """`config` if it fits this server's limits, else ConfigError naming the field."""
    try:
        check_limits(config, settings)
    except LimitError as e:
        raise ConfigError([limit_item(e)]) from None
    return config


def _follow_problem(current: SessionConfig, patch: dict[str, Any]) -> dict[str, Any]:
    """Switching problem alone also switches to that problem's default data set and loss.

    Otherwise `{"problem": "regression"}` on a circle session would be refused for naming a
    classification data set the caller never mentioned, unlike TensorFlow Playground.
    """
    problem = patch.get("problem")
    if problem is None or problem == current.problem:
        return patch
    try:
        defaults = SessionConfig(problem=problem)
    except ValidationError:
        return patch  # an unknown problem: validation of the merged config names it
    out = dict(patch)
    data = out.get("data", {})
    if isinstance(data, dict) and "dataset" not in data:
        out["data"] = {**data, "dataset": defaults.data.dataset}
    training = out.get("training", {})
    if isinstance(training, dict) and "loss" not in training:
        out["training"] = {**training, "loss": None}
    return out


def patched_config(current: SessionConfig, patch: dict[str, Any], settings: Settings) -> SessionConfig:
    """`current` with a partial config merged in, validated and within limits, else ConfigError."""
    merged = merge_config(current.model_dump(), _follow_problem(current, patch))
    try:
        config = SessionConfig.model_validate(merged)
    except ValidationError as e:
        raise ConfigError(validation_items(e)) from None
    return check_config(config, settings)


async def request_validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own 422 (`{"detail": [{"type", "loc", "msg", "input", ...}]}`), but safe for any input.

    `json.loads` reads `NaN`, `Infinity` and `1e999` into non-finite floats; FastAPI's default
    handler echoes them back as `input` through `json.dumps(allow_nan=False)`, which raises, so a
    body like `{"training": {"learning_rate": NaN}}` answered 500. Here they become null.
    Register with `app.add_exception_handler(RequestValidationError, request_validation_error)`.
    """
    assert isinstance(exc, RequestValidationError)
    body = {"detail": jsonable_encoder(exc.errors())}
    return Response(pydantic_core.to_json(body, inf_nan_mode="null"), status_code=422, media_type="application/json")
