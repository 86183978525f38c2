"""Export a session in five formats, and import a pt or json export as a new session (docs/protocol.md).

The tensor work happens in `nnplayground.exports`, in a worker thread; these handlers only
translate between HTTP and it.
"""

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from .. import exports
from ..export_script import script_name
from ..schemas import SessionConfig, SessionCreated
from .deps import EngineDep, PersistenceDep, SessionDep, SettingsDep
from .registry import RegistryFull
from .responses import EXPORT, INVALID, LIMITS, SESSION, UPLOAD

router = APIRouter(prefix="/api/sessions", tags=["export"])

IMPORT_PATH = "/api/sessions/import"
ExportFormat = Literal["pt", "safetensors", "onnx", "python", "json"]


def _unprocessable(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["body"], "msg": message, "type": "value_error"}]
    )


@router.get(
    "/{session_id}/export",
    response_class=Response,
    responses={
        200: {"description": "the file, as an attachment", "content": {"application/octet-stream": {}}},
        **SESSION,
        **EXPORT,
    },
)
async def export_session(
    session: SessionDep,
    engine: EngineDep,
    format: Annotated[ExportFormat, Query(description="pt | safetensors | onnx | python | json")] = "pt",
) -> Response:
    """The session's config and weights as a file to download."""
    ckpt = await asyncio.wrap_future(engine.checkpoint(session.id))
    try:
        data = await asyncio.to_thread(exports.export, ckpt, format)
    except exports.ExportUnavailable as e:
        raise HTTPException(status.HTTP_501_NOT_IMPLEMENTED, str(e)) from None
    name = script_name(session.id) if format == "python" else f"nnplayground_{session.id}.{exports.EXTENSIONS[format]}"
    return Response(
        data, media_type=exports.MEDIA_TYPES[format], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _read(data: bytes, content_type: str | None, max_bytes: int, settings: Any) -> dict[str, Any]:
    return exports.validated(exports.read_upload(data, content_type, max_bytes), settings)


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionCreated,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "a pt export (application/octet-stream) or a json export (application/json)",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
    responses={**UPLOAD, **INVALID, **LIMITS},
)
async def import_session(
    request: Request, engine: EngineDep, settings: SettingsDep, persistence: PersistenceDep
) -> SessionCreated:
    """A new session (new id and token) from a pt or json export, paused where the export was."""
    data = await request.body()  # BodySizeLimit has already refused anything over max_upload_bytes
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"request body over the limit of {settings.max_upload_bytes} bytes")
    if not data:
        raise _unprocessable("send the bytes of a pt or json export as the request body")
    try:
        ckpt = await asyncio.to_thread(
            _read, data, request.headers.get("content-type"), settings.max_upload_bytes, settings
        )
    except ValueError as e:
        raise _unprocessable(str(e)) from None
    client = request.client.host if request.client else "unknown"
    try:
        entry, token, state = await persistence.open_session(client, ckpt, SessionConfig.model_validate(ckpt["config"]))
    except RegistryFull as e:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(e)) from None
    except ValueError as e:  # the engine's own shape check
        raise _unprocessable(str(e)) from None
    return SessionCreated(id=entry.id, token=token, config=engine.config(entry.id), state=state)
