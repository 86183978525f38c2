"""The error answers of the REST routes, for the OpenAPI schema: one model, ready-made `responses=` dicts.

Every refusal but 422 answers `{"detail": "<message>"}` (ErrorOut); 422 keeps FastAPI's own
documented shape (a list of `{loc, msg, type}`), so it is not listed here. Merge the dicts a route
needs, e.g. `responses={**SESSION, **BODY}`; a later dict's entry replaces an earlier one's code.
"""

from typing import Any

from pydantic import BaseModel, Field

Responses = dict[int | str, dict[str, Any]]


class ErrorOut(BaseModel):
    """A refused request: what went wrong, in a sentence."""

    detail: str = Field(description="what went wrong, e.g. \"wrong token\"")


def error(description: str) -> dict[str, Any]:
    """One documented error answer with the ErrorOut body."""
    return {"model": ErrorOut, "description": description}


# A session route: the bearer token of POST /api/sessions (see deps.get_session).
SESSION: Responses = {
    401: error("missing bearer token"),
    403: error("wrong token for this session"),
    404: error("unknown session (never made, deleted or expired)"),
}
# A session route that a classroom room may lock (a student changing what the teacher locked).
LOCKED: Responses = {403: error("wrong token, or a control the room's teacher locked")}
# A request body over Settings.max_message_bytes (app.BodySizeLimit).
BODY: Responses = {413: error("request body over max_message_bytes")}
# An uploaded file over Settings.max_upload_bytes (CSV data, imports).
UPLOAD: Responses = {413: error("upload over max_upload_bytes")}
# A route that makes a session: a server or per-client limit.
LIMITS: Responses = {429: error("max_sessions or max_sessions_per_client reached")}
# Any route that looks a room code up (RoomService.find): unknown codes are counted per address.
ROOM_CODE: Responses = {
    404: error("no room with that code"),
    429: error("too many attempts with unknown codes from this address"),
}
# A teacher route: the teacher token answered by POST /api/rooms.
TEACHER: Responses = {
    **ROOM_CODE,
    401: error("missing bearer token"),
    403: error("wrong token: not this room's teacher token"),
}
# A student route: the token of the student's own session in the room.
STUDENT: Responses = {
    **ROOM_CODE,
    401: error("missing bearer token"),
    403: error("wrong token: not a student of this room"),
}
# A room action that needs a live room.
ROOM_CLOSED: Responses = {410: error("the room is closed")}
# Joining a room.
ROOM_JOIN: Responses = {
    **ROOM_CODE,
    409: error("the room is full"),
    410: error("the room is closed, or its code expired for new students"),
    429: error("too many attempts with unknown codes, or a session limit reached"),
}
# FastAPI's own 422 shape, for a route it does not document one on (no parameters it validates).
INVALID: Responses = {
    422: {
        "description": "the body is not a valid export",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
    }
}
# An export format whose optional package is not installed.
EXPORT: Responses = {501: error("the format needs an optional package that is not installed")}
