"""Server-wide reads: health, and the catalog that feeds the UI's menus and limits."""

from typing import Any

from fastapi import APIRouter

from .. import __version__, catalog
from ..schemas import SessionConfig
from .deps import EngineDep, PersistenceDep, SettingsDep

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
async def health(engine: EngineDep, settings: SettingsDep, persistence: PersistenceDep) -> dict[str, Any]:
    """Liveness, plus storage use (database and checkpoints, as of the last autosave) and its bound,
    the state of the compiled training steps (a class trains faster once they are ready), and
    the garbage collector's frozen objects, and the frames streamed."""
    return {
        "status": "ok",
        "device": engine.device_name,
        "sessions": len(engine.session_ids()),
        "version": __version__,
        "storage_bytes": persistence.storage_bytes,
        "max_storage_bytes": settings.max_storage_bytes,
        "last_autosave": persistence.last_autosave,
        "autosave_seconds": settings.autosave_seconds,
        "autosave_interval": persistence.autosave_interval,
        "compiled_steps": engine.compiled_steps(),
        "collector": engine.collector(),
        "frames": engine.frames(),
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
