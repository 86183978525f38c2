"""Server-wide reads: health, and the catalog that feeds the UI's menus and limits."""

from typing import Any

from fastapi import APIRouter

from .. import __version__, catalog
from ..schemas import SessionConfig
from .deps import EngineDep, SettingsDep

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
async def health(engine: EngineDep) -> dict[str, Any]:
    return {
        "status": "ok",
        "device": engine.device_name,
        "sessions": len(engine.session_ids()),
        "version": __version__,
    }


@router.get("/catalog")
async def get_catalog(settings: SettingsDep) -> dict[str, Any]:
    """Every registry, this server's limits and the default config: all a client needs to
    build valid configs without hard-coding any choice."""
    return {
        **catalog.catalog_json(),
        "limits": settings.limits(),
        "defaults": SessionConfig().model_dump(mode="json"),
        "stream_fps": settings.stream_fps,
        "grid_resolution": settings.grid_resolution,
    }
