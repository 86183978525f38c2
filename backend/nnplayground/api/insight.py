"""Looking inside a session: diagnostics and editing a weight (docs/protocol.md, "Looking inside")."""

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, status

from ..schemas import WeightEdit
from .deps import EngineDep, SessionDep

router = APIRouter(prefix="/api/sessions", tags=["insight"])


@router.get("/{session_id}/diagnostics")
async def diagnostics(session: SessionDep, engine: EngineDep) -> dict[str, Any]:
    """Gradient norms per layer over epochs, dead units, weight and activation histograms."""
    return await asyncio.wrap_future(engine.diagnostics(session.id))


@router.put("/{session_id}/weights", status_code=status.HTTP_204_NO_CONTENT)
async def set_weight(session: SessionDep, engine: EngineDep, edit: WeightEdit) -> None:
    """Set one weight (or, with `from` null, a bias), live."""
    try:
        await asyncio.wrap_future(engine.set_weight(session.id, edit.layer, edit.source, edit.to, edit.value))
    except ValueError as e:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["body"], "msg": str(e), "type": "value_error"}]
        ) from None
