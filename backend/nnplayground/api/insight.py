"""Looking inside a session: diagnostics and editing a weight (docs/protocol.md, "Looking inside")."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from ..schemas import SessionConfig, WeightEdit
from ..tfplayground import to_config
from .deps import EngineDep, SessionDep, SettingsDep
from .responses import BODY, SESSION


class TFLink(BaseModel):
    url: str = Field(max_length=4000, description="a playground.tensorflow.org link, or just its #… part")

router = APIRouter(prefix="/api/sessions", tags=["insight"], responses=SESSION)
links = APIRouter(tags=["insight"])  # not about one session


@router.get("/{session_id}/diagnostics")
async def diagnostics(session: SessionDep, engine: EngineDep) -> dict[str, Any]:
    """Gradient norms per layer over epochs, dead units, weight and activation histograms."""
    return await asyncio.wrap_future(engine.diagnostics(session.id))


@router.get("/{session_id}/network")
async def network(
    session: SessionDep, engine: EngineDep,
    resolution: Annotated[int, Query(ge=2, le=100, description="cells per side of each unit's map")] = 20,
) -> dict[str, Any]:
    """The diagram's data: weights and biases per layer, every hidden unit's output over the plane."""
    return await asyncio.wrap_future(engine.network(session.id, resolution))


@links.post("/api/tfplayground", responses=BODY)
async def from_tf_playground(body: TFLink, settings: SettingsDep) -> dict[str, Any]:
    """A TensorFlow Playground link as this server's config (POST it to /api/sessions to use it)."""
    try:
        config, warnings = to_config(body.url, settings.max_hidden_layers, settings.max_neurons)
        SessionConfig.model_validate(config)
    except ValueError as e:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["body", "url"], "msg": str(e), "type": "value_error"}]
        ) from None
    return {"config": config, "warnings": warnings}


@router.put("/{session_id}/weights", status_code=status.HTTP_204_NO_CONTENT, responses=BODY)
async def set_weight(session: SessionDep, engine: EngineDep, edit: WeightEdit) -> None:
    """Set one weight (or, with `from` null, a bias), live."""
    try:
        await asyncio.wrap_future(engine.set_weight(session.id, edit.layer, edit.source, edit.to, edit.value))
    except ValueError as e:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["body"], "msg": str(e), "type": "value_error"}]
        ) from None
