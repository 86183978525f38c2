"""Typed dependencies: the engine, settings and registry held by the app, and token checks."""

from typing import Annotated

from fastapi import Depends, HTTPException, Path, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from ..config import Settings
from ..engine import Engine
from ..persistence import Persistence
from .registry import SessionEntry, SessionRegistry


# HTTPConnection rather than Request: these serve websocket routes too.
def get_engine(conn: HTTPConnection) -> Engine:
    return conn.app.state.engine


def get_settings(conn: HTTPConnection) -> Settings:
    return conn.app.state.settings


def get_registry(conn: HTTPConnection) -> SessionRegistry:
    return conn.app.state.registry


def get_persistence(conn: HTTPConnection) -> Persistence:
    return conn.app.state.persistence


EngineDep = Annotated[Engine, Depends(get_engine)]
PersistenceDep = Annotated[Persistence, Depends(get_persistence)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[SessionRegistry, Depends(get_registry)]

# auto_error=False: we answer 401 ourselves, with the protocol's message; the scheme still
# shows in the OpenAPI docs, so /docs can send the token.
_bearer = HTTPBearer(auto_error=False, description="the token answered by POST /api/sessions")


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The bearer token of a request, or a 401 in the protocol's words."""
    if credentials is None or not credentials.credentials:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing token", headers={"WWW-Authenticate": "Bearer"})
    return credentials.credentials


TokenDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class AuthError(Exception):
    """A session access refused; `status` is the REST code, `close_code` the websocket one."""

    def __init__(self, status_code: int, close_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.close_code = close_code
        self.detail = detail


def authorize(registry: SessionRegistry, session_id: str, token: str | None) -> SessionEntry:
    """The session entry if `token` opens it; else AuthError (missing, unknown session, wrong).

    A missing token is refused before the session is looked up, so an anonymous caller cannot
    probe which ids exist.
    """
    if not token:
        raise AuthError(status.HTTP_401_UNAUTHORIZED, 4401, "missing token")
    entry = registry.get(session_id)
    if entry is None:
        raise AuthError(status.HTTP_404_NOT_FOUND, 4404, f"unknown session {session_id}")
    if not registry.token_matches(entry, token):
        raise AuthError(status.HTTP_403_FORBIDDEN, 4403, "wrong token")
    registry.touch(session_id)  # only an authorised call keeps a session from expiring
    return entry


def room_reader(conn: HTTPConnection, session_id: str, token: str | None) -> bool:
    """May `token` (not the session's own) read this session? In a live classroom room the
    teacher token reads every session of the room, and a student's token the teacher's session."""
    rooms = getattr(conn.app.state, "rooms", None)
    return bool(token) and rooms is not None and rooms.may_read(session_id, token)


def get_session(
    conn: HTTPConnection,
    registry: RegistryDep,
    session_id: Annotated[str, Path(description="the id answered by POST /api/sessions")],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> SessionEntry:
    """The session named in the path, if the request carries its bearer token (or, for reads
    only, a room token that may read it: see room_reader)."""
    token = credentials.credentials if credentials else None
    try:
        return authorize(registry, session_id, token)
    except AuthError as e:
        entry = registry.get(session_id)
        if e.status_code == 403 and entry is not None and conn.scope.get("method") in ("GET", "HEAD"):
            if room_reader(conn, session_id, token):
                return entry
        headers = {"WWW-Authenticate": "Bearer"} if e.status_code == 401 else None
        raise HTTPException(e.status_code, e.detail, headers=headers) from None


SessionDep = Annotated[SessionEntry, Depends(get_session)]
