"""Server settings: one object, read from `NNPG_*` environment variables."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob and limit of a server; limits are reported by `/api/catalog`."""

    model_config = SettingsConfigDict(env_prefix="NNPG_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    device: Literal["auto", "cpu", "cuda"] = "auto"
    data_dir: Path = Path("data")
    # Torch intra-op threads for the engine: tiny batched ops run fastest on one thread, and the
    # other core stays free for the event loop and websockets.
    torch_threads: int = Field(1, ge=1, le=256)
    # Static frontend (index.html, js/, css/); None means `<repo root>/frontend` next to the package.
    frontend_dir: Path | None = None
    # A folder of extra lesson files (`<id>.yaml`) offered beside the shipped ones (lessons/library/).
    lessons_dir: Path | None = None

    # Streaming: frames per second sent to each watcher, and the default grid resolution.
    stream_fps: float = Field(20.0, gt=0, le=120)
    # Frames per second across the whole server. A class of watched sessions past it shares it
    # equally (100 sessions: 14 frames/s each, 200: 7), so drawing frames leaves the cores to
    # training. 1,400 rather than 1,200 since the collector's pauses went (docs/performance.md):
    # more frames to the slowest client, the epochs/s within the machine's spread; 1,600 no better.
    frame_budget: float = Field(1400.0, gt=0)
    # The most of its time the frame publisher may spend drawing, at its measured cost per frame:
    # on a machine too slow for the budget, frames slow down evenly and leave the rest to training.
    frame_share: float = Field(1.0, gt=0, le=1)
    grid_resolution: int = Field(100, ge=10, le=400)
    max_grid_resolution: int = Field(200, ge=10, le=1000)
    # Where frames are drawn: "process" (a child process of its own, so drawing does not take the
    # training thread's GIL; see engine/framebuilder.py) or "thread" (the publisher thread, on the
    # engine's device: the choice for a GPU, whose grid passes are cheap there).
    frame_builder: Literal["process", "thread"] = "process"
    # How much nicer (POSIX niceness, added to the server's) the frame-builder process runs: on a
    # contended core the training thread wins and frames take what is left (they are paced by
    # their cost anyway); 0 competes as an equal. At 100 sessions on 2 cores: 1.3x the epochs/s
    # for about 15 % fewer frames (docs/performance.md).
    frame_builder_nice: int = Field(5, ge=0, le=19)
    # Compile the training step of a group of 8 or more playing sessions (torch.compile, in the
    # background; engine/compiled.py): 1.2-1.4x the epochs/s of a class. Off: every step eager.
    compile_steps: bool = True
    # ...and the step of a session that trains alone on a quiet server (fewer than 8 sessions train),
    # once it has taken compiled.LONE_STEPS steps alone: about 2.7x one user's epochs/s. Its graph
    # takes over at a moment the compile decides, so runs differ within float rounding; the tests
    # that compare runs exactly keep it off.
    compile_lone: bool = True
    # On a GPU, replay a compiled step as a CUDA graph once its inputs settle (engine/capture.py):
    # one launch instead of a few dozen tiny kernels. Not recorded on the CPU, which has no such graphs.
    cuda_graphs: bool = True
    # Freeze the objects that live as long as the server (torch, compiled graphs) out of Python's
    # full garbage collections, at start and after each compile (engine/collector.py): at 200
    # sessions each full collection held the GIL 0.3-0.7 s. Tests that host many servers in one
    # process turn it off.
    gc_freeze: bool = True
    # uvicorn's event loop: "auto" takes uvloop where it is installed (a dependency off Windows),
    # whose sends and thread wake-ups cost less CPU than asyncio's when a class streams.
    event_loop: Literal["auto", "asyncio", "uvloop"] = "auto"

    # Limits: each answers with a clear 4xx when exceeded.
    max_sessions: int = Field(500, ge=1)
    max_sessions_per_client: int = Field(20, ge=1)
    max_hidden_layers: int = Field(6, ge=0)
    max_neurons: int = Field(8, ge=1)
    max_points: int = Field(2000, ge=10)
    max_epochs_per_train: int = Field(10_000, ge=1)
    max_message_bytes: int = Field(65_536, ge=256)

    # Web pages (scheme://host[:port]) besides the server's own that may open session websockets;
    # "*" allows any. A websocket whose Origin header is present and not allowed closes with 4403.
    # Env: NNPG_ALLOWED_ORIGINS='["https://class.example.org"]' (a JSON list).
    allowed_origins: list[str] = Field(default_factory=list)

    # A session nobody watches and nobody drives for this long pauses itself.
    idle_pause_seconds: float = Field(300.0, gt=0)

    # Persistence (store.py): changed sessions are saved this often while the server runs, so a
    # crash loses at most this much training; and on graceful shutdown.
    autosave_seconds: float = Field(5.0, gt=0)
    # ...but saving takes at most this share of the time: with a large class (a save is ~3 ms of
    # GIL-held work), the interval stretches to the cycle's time / share rather than slow training.
    autosave_share: float = Field(0.05, gt=0, le=1)
    # A session with no REST call and no open websocket for this long is deleted (its final
    # state stays in the run history for as long again).
    session_ttl_seconds: float = Field(86_400.0, gt=0)
    # Database plus checkpoint files. Over it, checkpoints are dropped, oldest first: past runs'
    # weights, then the weights of the sessions idle longest (their configs stay).
    max_storage_bytes: int = Field(1 << 30, ge=0)
    # Largest body of POST /api/sessions/import (a pt or json export).
    max_upload_bytes: int = Field(5_000_000, ge=1024)
    # Past runs kept per session; the oldest go first.
    max_runs_per_session: int = Field(50, ge=0)

    # Classroom rooms (rooms/): how many a server holds (open or expired), students per room,
    # and join attempts with an unknown code per client address and minute (a hall behind one NAT
    # address joins freely with the right code). A wrong code answers only after the delay.
    max_rooms: int = Field(20, ge=1)
    max_students_per_room: int = Field(120, ge=1)
    join_attempts_per_minute: int = Field(20, ge=1)
    join_failure_delay_seconds: float = Field(1.0, ge=0, le=30)
    # Roster frames per second to a teacher's dashboard (thumbnails and scores of every student).
    roster_fps: float = Field(2.0, ge=0.5, le=20)

    def limits(self) -> dict[str, int]:
        """The limits a client needs to build valid configs."""
        return {
            "max_sessions": self.max_sessions,
            "max_sessions_per_client": self.max_sessions_per_client,
            "max_hidden_layers": self.max_hidden_layers,
            "max_neurons": self.max_neurons,
            "max_points": self.max_points,
            "max_epochs_per_train": self.max_epochs_per_train,
            "max_message_bytes": self.max_message_bytes,
            "max_upload_bytes": self.max_upload_bytes,
            "max_grid_resolution": self.max_grid_resolution,
            "max_rooms": self.max_rooms,
            "max_students_per_room": self.max_students_per_room,
        }
