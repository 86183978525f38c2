"""The web app: `create_app()` wires the engine, the routers and the static frontend together."""

import asyncio
import importlib.util
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__
from .api import data, insight, lessons, meta, room_stream, rooms, runs, sessions, transfer, ws
from .api.configs import request_validation_error
from .api.registry import SessionRegistry
from .config import Settings
from .engine import Engine, Refused, UnknownSession
from .lessons import LessonLibrary
from .persistence import Persistence
from .rooms import RoomService
from .store import Store

# backend/nnplayground/app.py -> the repository root holds frontend/ (an editable install).
_REPO_FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def frontend_dir(settings: Settings) -> Path:
    """Where the static frontend lives: Settings.frontend_dir, else `<repo root>/frontend`."""
    return settings.frontend_dir or _REPO_FRONTEND


def plotly_js() -> Path | None:
    """plotly.min.js from the installed plotly package, so the page needs no CDN."""
    # find_spec locates the package without importing it (importing plotly is slow).
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    return None


class BodySizeLimit:
    """Answers 413 to a request body over `max_bytes`, declared or (when chunked) actual.

    Pure ASGI, so it sees the body before FastAPI parses it; websockets check their own
    message sizes.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int, uploads: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes
        self.uploads = re.compile(uploads)  # paths that take files: imports and CSVs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if self.uploads.fullmatch(scope["path"]) else self.max_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            # The server already holds the body to the declared length, so trusting it is safe.
            if length.isdigit() and int(length) > limit:
                await self._too_large(scope, receive, send, limit)
                return
            await self.app(scope, receive, send)
            return
        # No declared length (chunked, or no body): read up to the limit, then replay it.
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await self._too_large(scope, receive, send, limit)
                return
            if not message.get("more_body", False):
                break
        replayed: Message = {"type": "http.request", "body": bytes(body), "more_body": False}
        await self.app(scope, _replay([replayed], receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = JSONResponse({"detail": f"request body over the limit of {limit} bytes"}, status_code=413)
        await response(scope, receive, send)


class StreamActivity:
    """Counts open session websockets in the registry: a watched session never expires as idle.

    Pure ASGI around the whole connection, so the count drops however the socket ends.
    """

    PREFIX = "/ws/sessions/"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        registry = getattr(scope["app"].state, "registry", None) if "app" in scope else None
        path: str = scope.get("path", "")
        if scope["type"] != "websocket" or registry is None or not path.startswith(self.PREFIX):
            await self.app(scope, receive, send)
            return
        session_id = path[len(self.PREFIX):].split("/", 1)[0]
        registry.stream_opened(session_id)
        try:
            await self.app(scope, receive, send)
        finally:
            registry.stream_closed(session_id)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that hands out `messages` first, then defers to the server's."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _frontend_router(directory: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def index() -> Response:
        page = directory / "index.html"
        if not page.is_file():
            return JSONResponse({"detail": f"no frontend at {directory}"}, status_code=404)
        return FileResponse(page, media_type="text/html")

    @router.get("/teacher")
    async def teacher() -> Response:
        # The classroom dashboard (frontend/teacher.html).
        page = directory / "teacher.html"
        if not page.is_file():
            return JSONResponse({"detail": f"no teacher page at {directory}"}, status_code=404)
        return FileResponse(page, media_type="text/html")

    @router.get("/vendor/plotly.min.js")
    async def plotly() -> Response:
        path = plotly_js()
        if path is None:
            return JSONResponse({"detail": "plotly is not installed"}, status_code=404)
        return FileResponse(
            path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
        )

    return router


async def _unknown_session(request: Request, exc: Exception) -> JSONResponse:
    # A session deleted between the token check and the engine call: the same 404 as a
    # session that never existed.
    session_id = request.path_params.get("session_id") or (exc.args[0] if exc.args else "")
    return JSONResponse({"detail": f"unknown session {session_id}"}, status_code=404)


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    # The engine could not carry out a valid-looking request (a bad index, data it cannot take).
    return JSONResponse({"detail": [{"loc": ["body"], "msg": str(exc), "type": "refused"}]}, status_code=422)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app for `settings` (default: from NNPG_* environment variables)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One engine per process: it owns the device and every session (see DESIGN.md).
        engine = Engine(settings)
        engine.start()
        try:
            # The store holds every session between runs of the server: they come back paused.
            store = await asyncio.to_thread(Store, settings.data_dir)
            registry = SessionRegistry()
            persistence = Persistence(settings, engine, registry, store)
            app.state.engine, app.state.registry, app.state.persistence = engine, registry, persistence
            # Lessons load once; a bad file is logged and left out (`nnplayground lessons check` explains it).
            app.state.lessons = await asyncio.to_thread(LessonLibrary.for_settings, settings)
            await persistence.start()
            # Rooms after sessions: a room keeps only the students whose sessions came back.
            app.state.rooms = RoomService(settings, engine, registry, persistence, store)
            await app.state.rooms.restore()
            try:
                yield
            finally:
                await persistence.stop()  # saves every changed session while the engine still runs
        finally:
            engine.stop()

    app = FastAPI(
        title="nnplayground",
        version=__version__,
        description="An interactive neural-network playground served by PyTorch (docs/protocol.md).",
        lifespan=lifespan,
    )
    app.state.settings = settings  # set before start-up so tests can read it without a lifespan
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_message_bytes, upload_bytes=settings.max_upload_bytes,
        uploads=rf"{re.escape(transfer.IMPORT_PATH)}|/api/sessions/[^/]+/data",
    )
    app.add_middleware(StreamActivity)
    app.add_exception_handler(UnknownSession, _unknown_session)
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.include_router(meta.router)
    app.include_router(transfer.router)  # before sessions: /api/sessions/import is not a session id
    app.include_router(sessions.router)
    app.include_router(runs.router)
    app.include_router(insight.router)
    app.include_router(insight.links)
    app.include_router(data.router)
    app.include_router(lessons.router)
    app.include_router(ws.router)
    app.include_router(rooms.router)
    app.include_router(room_stream.router)
    directory = frontend_dir(settings)
    app.include_router(_frontend_router(directory))
    # check_dir=False: the app still starts (API only) where no frontend is shipped.
    app.mount("/static", StaticFiles(directory=directory, check_dir=False), name="static")
    return app
