"""Drawing frames: CPU per frame of the eager and the compiled plane passes, side by side.

    python bench/frames.py [--rows 50] [--rounds 40]

Builds a frame request as the engine does at a stream tick (`--rows` watched sessions of one
shape, their weights made to differ) and draws it with `FrameDrawer` (what the frame-builder
process runs): once with every pass eager, once with the decision grid and neuron maps compiled
(engine/gridpass.py; the compile is waited out first). Times are thread CPU (`time.thread_time`,
which a busy neighbour's steal does not inflate), the median over `--rounds` alternating rounds,
per frame. 4 rows stand for commands' frames merged into one request (publisher._next_job); one
row is a command's frame alone, which stays eager. Frames with neuron maps are what the browser
asks for; the serve benchmark's clients do not ask for them.

Then each drawn frame's JSON header encoded by the standard library's `json` and by
`frames.header_json` (orjson when installed), alternating, per header.
"""

import argparse
import json
import statistics
import time
from dataclasses import replace

import torch

from nnplayground import frames
from nnplayground.config import Settings
from nnplayground.engine import Engine
from nnplayground.engine.framedraw import DrawRequest, FrameDrawer
from nnplayground.engine.group import Group
from nnplayground.engine.session import Session, SessionData
from nnplayground.schemas import SessionConfig

CONFIGS = {
    "default (2-4-2-1 tanh)": {},
    "spiral 3 classes, 8-8 relu": {
        "data": {"dataset": "spiral", "classes": 3}, "network": {"hidden_layers": [8, 8], "activation": "relu"},
    },
}


def request(config: dict, rows: int, neurons: bool) -> DrawRequest:
    """What the engine hands the drawer for `rows` watched sessions of one group."""
    cfg = SessionConfig.model_validate(config)
    sessions = [Session(f"s{i}", cfg, SessionData.build(cfg, 1)) for i in range(rows)]
    group = Group(sessions[0].key(), torch.device("cpu"))
    for s in sessions:
        group.add(s, s.fresh_row(s.key()), cfg.training.schedule)
        s.watchers.append(object())  # type: ignore[arg-type] - only counted
        if neurons:
            s.neuron_watchers.add(1)
        for epoch in range(1, 200):
            s.history.append(epoch, {"train_loss": 1 / epoch, "test_loss": 2 / epoch})
    req = Engine(Settings(frame_builder="thread"))._frame_job(group, sessions).request(100, torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    params = {k: v + 0.5 * torch.randn(v.shape, generator=gen) if k[0] in "Wb" else v for k, v in req.params.items()}
    return replace(req, params=params, compile=True)


def first_rows(req: DrawRequest, n: int) -> DrawRequest:
    return replace(
        req, params={k: v[:n] for k, v in req.params.items()}, data={k: v[:n] for k, v in req.data.items()},
        items=req.items[:n],
    )


def cpu_per_frame(drawer: FrameDrawer, req: DrawRequest) -> float:
    start = time.thread_time()
    drawer.draw(req)
    return (time.thread_time() - start) / len(req.items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50, help="watched sessions in one request (a job chunk)")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in the frame-builder process
    print(f"command: python bench/frames.py --rows {args.rows} --rounds {args.rounds}")
    print("thread CPU per frame, µs (median); ratio = eager / compiled")
    print(f"{'network':30} {'neurons':>7} {'rows':>5} {'eager':>8} {'compiled':>9} {'ratio':>6}")
    headers: dict[tuple[str, bool], list[dict]] = {}
    for name, config in CONFIGS.items():
        for neurons in (False, True):
            req = request(config, args.rows, neurons)
            eager, compiled = FrameDrawer(torch.device("cpu"), compiles=False), FrameDrawer(torch.device("cpu"))
            compiled.draw(req)  # queues the compiles
            for graph in compiled.passes.graphs.values():
                graph.done.wait(600)
            if any(g.state != "ready" for g in compiled.passes.graphs.values()):
                raise SystemExit(f"compiling failed: {compiled.passes.states()}")
            headers[(name, neurons)] = [frames.decode_frame(f).header for f in compiled.draw(req)]
            for r in (req, first_rows(req, 4), first_rows(req, 1)):
                times: dict[str, list[float]] = {"eager": [], "compiled": []}
                for _ in range(3):
                    cpu_per_frame(eager, r), cpu_per_frame(compiled, r)
                for _ in range(args.rounds):  # alternating, so drift hits both alike
                    times["eager"].append(cpu_per_frame(eager, r))
                    times["compiled"].append(cpu_per_frame(compiled, r))
                e, c = (statistics.median(times[k]) * 1e6 for k in ("eager", "compiled"))
                print(f"{name:30} {'yes' if neurons else 'no':>7} {len(r.items):>5} {e:8.0f} {c:9.0f} {e / c:5.2f}x")
    header_encoding(headers, args.rounds)


def header_encoding(headers: dict[tuple[str, bool], list[dict]], rounds: int) -> None:
    """Thread CPU per header: the standard library's json against frames.header_json."""
    encoder = "orjson" if hasattr(frames, "orjson") else "the standard library: orjson is not installed"
    print(f"\nJSON header per frame, µs (median); ratio = json / header_json ({encoder})")
    print(f"{'network':30} {'neurons':>7} {'bytes':>6} {'json':>8} {'header_json':>12} {'ratio':>6}")

    def cpu(encode, items: list[dict]) -> float:
        start = time.thread_time()
        for h in items:
            encode(h)
        return (time.thread_time() - start) / len(items)

    def standard(h: dict) -> bytes:
        return json.dumps(h, separators=(",", ":"), ensure_ascii=False).encode()

    for (name, neurons), items in headers.items():
        times: dict[str, list[float]] = {"json": [], "fast": []}
        for _ in range(rounds):
            times["json"].append(cpu(standard, items))
            times["fast"].append(cpu(frames.header_json, items))
        j, f = (statistics.median(times[k]) * 1e6 for k in ("json", "fast"))
        size = len(frames.header_json(items[0]))
        print(f"{name:30} {'yes' if neurons else 'no':>7} {size:>6} {j:8.1f} {f:12.1f} {j / f:5.1f}x")


if __name__ == "__main__":
    main()
