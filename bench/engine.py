"""Engine throughput beside a plain PyTorch loop, measured side by side in one run.

    python bench/engine.py [--seconds 3] [--sizes 1,10,50,200]

1. One session at TensorFlow Playground's default config, streamed at 20 frames/s to an
   in-process watcher, against a plain nn.Module + torch.optim loop doing the same epochs
   (mini-batch steps plus a full train/test evaluation per epoch, as the engine does).
2. N sessions of the default config: aggregate session-steps/s of the batched engine against
   the plain loop stepping N modules in turn.
3. A mixed class: several shapes and activations at once.
"""

import argparse
import threading
import time
from typing import Any

import torch
from torch import nn

from nnplayground.config import Settings
from nnplayground.engine import Engine
from nnplayground.engine.compiled import LONE_STEPS
from nnplayground.schemas import SessionConfig

STEPS_PER_EPOCH = 25  # 250 training points, batch 10


class CountingWatcher:
    """Counts frames and their bytes; does nothing else, like a fast client."""

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0
        self.lock = threading.Lock()

    def frame(self, data: bytes) -> None:
        with self.lock:
            self.frames += 1
            self.bytes += len(data)

    def event(self, message: dict[str, Any]) -> None:
        pass

    def closed(self, code: int, reason: str) -> None:
        pass


def plain_epochs_per_second(n_sessions: int, seconds: float) -> float:
    """Aggregate epochs/s of n plain modules stepped in turn (default config)."""
    torch.manual_seed(0)
    x = torch.rand(500, 2) * 12 - 6
    y = (x.norm(dim=1, keepdim=True) < 2.5).float()
    xtr, ytr, xte, yte = x[:250], y[:250], x[250:], y[250:]
    models = [
        nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2), nn.Tanh(), nn.Linear(2, 1))
        for _ in range(n_sessions)
    ]
    opts = [torch.optim.SGD(m.parameters(), lr=0.03) for m in models]
    loss_fn = nn.BCEWithLogitsLoss()

    def epoch(m: nn.Module, opt: torch.optim.Optimizer) -> None:
        for s in range(0, 250, 10):
            loss = loss_fn(m(xtr[s : s + 10]), ytr[s : s + 10])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            loss_fn(m(xtr), ytr)
            loss_fn(m(xte), yte)

    epochs = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for m, o in zip(models, opts, strict=True):
            epoch(m, o)
            epochs += 1
    return epochs / (time.perf_counter() - start)


def wait_for_compiles(engine: Engine, timeout: float = 300.0) -> None:
    """Until every queued compile of the engine's groups has finished (steps are eager meanwhile),
    a lone session's included: it is queued once the session has stepped alone LONE_STEPS times."""
    deadline = time.monotonic() + timeout
    while any(0 < g.lone_steps < LONE_STEPS for g in list(engine._groups.values())):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    # Until no new graph was queued for a second: a group's evaluations are queued once it has a
    # step graph and a slice parks enough epoch ends, which for one session may come later.
    seen = -1
    while time.monotonic() < deadline:
        graphs = [c for g in list(engine._groups.values()) for c in (g.compiled.graphs() if g.compiled else [])]
        for compiled in graphs:
            compiled.done.wait(max(0.0, deadline - time.monotonic()))
        if len(graphs) == seen:
            break
        seen = len(graphs)
        time.sleep(1.0)


def counts(
    engine: Engine, ids: list[str], watchers: list[CountingWatcher]
) -> tuple[float, dict[str, tuple[int, int]], list[int]]:
    """Each session's (epoch, step) and each watcher's frames, with the time halfway through reading them."""
    start = time.perf_counter()
    states = {sid: engine.state(sid) for sid in ids}
    frames = [w.frames for w in watchers]
    middle = (start + time.perf_counter()) / 2
    return middle, {sid: (s.epoch, s.step) for sid, s in states.items()}, frames


def engine_run(
    configs: list[SessionConfig], seconds: float, watch: int = 0, compile_steps: bool = True
) -> dict[str, float]:
    """Play every config in one engine for `seconds`; per-session and aggregate rates."""
    engine = Engine(Settings(stream_fps=20, compile_steps=compile_steps))
    engine.start()
    try:
        ids = [f"s{i}" for i in range(len(configs))]
        for sid, config in zip(ids, configs, strict=True):
            engine.create_session(sid, config).result()
        watchers = [CountingWatcher() for _ in range(watch)]
        for sid, w in zip(ids, watchers, strict=False):
            engine.watch(sid, w).result()
        for sid in ids:
            engine.play(sid).result()
        time.sleep(0.5)  # warm up
        wait_for_compiles(engine)
        # Counts read while every session plays, the window timed between the reads' midpoints:
        # pausing N sessions one by one first would let the last ones train on, uncounted in dt.
        t0, before, f0 = counts(engine, ids, watchers)
        time.sleep(seconds)
        t1, after, f1 = counts(engine, ids, watchers)
        dt = t1 - t0
        for future in [engine.pause(sid) for sid in ids]:
            future.result()
        per = [(after[sid][0] - before[sid][0]) / dt for sid in ids]
        steps = sum(after[sid][1] - before[sid][1] for sid in ids) / dt
        fps = [(b - a) / dt for a, b in zip(f0, f1, strict=True)]
        return {
            "min_epochs_per_s": min(per),
            "mean_epochs_per_s": sum(per) / len(per),
            "session_steps_per_s": steps,
            "min_fps": min(fps) if fps else 0.0,
            "frame_bytes": (sum(w.bytes for w in watchers) / max(1, sum(w.frames for w in watchers))),
        }
    finally:
        engine.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--sizes", default="1,10,50,200")
    args = parser.parse_args()
    torch.set_num_threads(1)
    default = SessionConfig()

    print("== one session, default config, streamed at 20 frames/s ==")
    plain = plain_epochs_per_second(1, args.seconds)
    ours = engine_run([default], args.seconds, watch=1)
    print(f"plain torch loop : {plain:8.1f} epochs/s")
    print(f"engine, streamed : {ours['min_epochs_per_s']:8.1f} epochs/s at {ours['min_fps']:.1f} frames/s, "
          f"{ours['frame_bytes']:.0f} B/frame")
    print(f"ratio engine/plain: {ours['min_epochs_per_s'] / plain:.2f}x")

    print("\n== N sessions, default config, aggregate session-steps/s ==")
    print("(eager: every step uncompiled; compiled: NNPG_COMPILE_STEPS' default, measured once compiled)")
    print(f"{'N':>5} {'plain':>10} {'eager':>10} {'compiled':>10} {'ratio':>7} {'compiled/eager':>15} "
          f"{'min epochs/s/session':>21}")
    for n in [int(s) for s in args.sizes.split(",")]:
        plain_steps = plain_epochs_per_second(n, args.seconds) * STEPS_PER_EPOCH
        eager = engine_run([default] * n, args.seconds, compile_steps=False)
        run = engine_run([default] * n, args.seconds)
        print(f"{n:>5} {plain_steps:>10.0f} {eager['session_steps_per_s']:>10.0f} {run['session_steps_per_s']:>10.0f} "
              f"{run['session_steps_per_s'] / plain_steps:>6.1f}x "
              f"{run['session_steps_per_s'] / eager['session_steps_per_s']:>14.2f}x {run['min_epochs_per_s']:>21.1f}")

    print("\n== mixed class: 60 sessions over 6 shapes and activations ==")
    shapes = [([4, 2], "tanh"), ([8, 8], "relu"), ([6], "sigmoid"), ([4, 4, 4], "tanh"), ([8], "linear"), ([3], "relu")]
    mixed = [
        SessionConfig.model_validate({"network": {"hidden_layers": layers, "activation": act}})
        for layers, act in shapes
        for _ in range(10)
    ]
    run = engine_run(mixed, args.seconds)
    plain_steps = plain_epochs_per_second(60, args.seconds) * STEPS_PER_EPOCH
    print(f"plain (60 x default shape): {plain_steps:.0f} session-steps/s")
    print(f"batched mixed             : {run['session_steps_per_s']:.0f} session-steps/s, "
          f"min {run['min_epochs_per_s']:.1f} epochs/s per session")
    print(f"ratio: {run['session_steps_per_s'] / plain_steps:.1f}x")


if __name__ == "__main__":
    main()
