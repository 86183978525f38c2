"""Run history: a session's past runs, and reopening one as a new session (docs/protocol.md, "Runs").

A run ends when its session is reset or re-initialised by a config change, deleted, or expires;
its config, final metrics and (space permitting) weights are kept. The token of the session that
made a run opens its history, even after that session is gone.
"""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, Field

from ..persistence import RunNotFound
from ..schemas import SessionCreated
from .deps import EngineDep, PersistenceDep, TokenDep, bearer_token
from .registry import RegistryFull
from .responses import LIMITS, SESSION, error

# The token of the session that made the runs; it may be gone, its runs stay.
router = APIRouter(
    prefix="/api", tags=["runs"],
    responses={
        **SESSION,
        403: error("wrong token: not that of the session that made the runs"),
        404: error("unknown session or run (no runs kept for it)"),
    },
)


class RunOut(BaseModel):
    id: str
    session_id: str
    config: dict[str, Any]
    metrics: dict[str, Any] = Field(description="the final state: epoch, losses, accuracies, stop_reason")
    epochs: int
    reason: str = Field(description="reset | deleted | expired | unrestorable: how the run ended")
    created: float = Field(description="when it ended, Unix seconds")
    has_weights: bool = Field(description="false when its weights were dropped to stay under max_storage_bytes")


class RunsOut(BaseModel):
    session_id: str
    runs: list[RunOut] = Field(description="newest first")


def _refused(e: Exception) -> HTTPException:
    if isinstance(e, PermissionError):
        return HTTPException(status.HTTP_403_FORBIDDEN, "wrong token")
    return HTTPException(status.HTTP_404_NOT_FOUND, str(e))


@router.get("/sessions/{session_id}/runs", response_model=RunsOut)
async def list_runs(
    session_id: Annotated[str, Path(description="a live session, or one that has ended")],
    persistence: PersistenceDep,
    credentials: TokenDep,
) -> Any:
    """The session's past runs, for the holder of its token."""
    token = bearer_token(credentials)
    try:
        runs = await persistence.runs(session_id, token)
    except (RunNotFound, PermissionError) as e:
        raise _refused(e) from None
    return {"session_id": session_id, "runs": [r.public() for r in runs]}


@router.post(
    "/runs/{run_id}/reopen", status_code=status.HTTP_201_CREATED, response_model=SessionCreated, responses=LIMITS
)
async def reopen_run(
    run_id: str, request: Request, engine: EngineDep, persistence: PersistenceDep, credentials: TokenDep
) -> SessionCreated:
    """A new session (new id and token) with the run's config and, when kept, its final weights."""
    token = bearer_token(credentials)
    client = request.client.host if request.client else "unknown"
    try:
        entry, new_token, state = await persistence.reopen(run_id, token, client)
    except (RunNotFound, PermissionError) as e:
        raise _refused(e) from None
    except RegistryFull as e:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(e)) from None
    except ValueError as e:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["path", "run_id"], "msg": str(e), "type": "value_error"}]
        ) from None
    return SessionCreated(id=entry.id, token=new_token, config=engine.config(entry.id), state=state)
