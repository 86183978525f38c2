"""The data section of the python export: the playground's own generator code, copied, or the data.

`copy_source` finds a definition in a module's source with `ast`, and everything it uses, so the
script generates exactly the session's points without importing nnplayground.
"""

import ast
import inspect
import pprint
from types import ModuleType
from typing import Any

from .data import datasets, features
from .schemas import SessionConfig


def _definitions(mod: ModuleType) -> dict[str, tuple[str, set[str]]]:
    """Top-level name -> (its source, the names it uses), in file order."""
    source = inspect.getsource(mod)
    out: dict[str, tuple[str, set[str]]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            continue
        segment = ast.get_source_segment(source, node) or ""
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        for name in names:
            out[name] = (segment, used)
    return out


def copy_source(mod: ModuleType, roots: list[str], exclude: frozenset[str] = frozenset()) -> str:
    """The source of `roots` and of every top-level definition they use, in the module's order."""
    defs = _definitions(mod)
    needed: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in needed or name not in defs or name in exclude:
            continue
        needed.add(name)
        stack.extend(defs[name][1])
    return "\n\n\n".join(source for name, (source, _) in defs.items() if name in needed)


def _feature_code(names: list[str]) -> str:
    """FEATURE_FUNCTIONS limited to `names`, and feature_matrix, from nnplayground.data.features."""
    source = inspect.getsource(features)
    entries = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "FEATURE_FUNCTIONS":
            assert isinstance(node.value, ast.Dict)
            for k, v in zip(node.value.keys, node.value.values, strict=True):
                if isinstance(k, ast.Constant) and k.value in names:
                    entries.append(f"    {k.value!r}: {ast.get_source_segment(source, v)},")
    table = "FEATURE_FUNCTIONS = {\n" + "\n".join(entries) + "\n}"
    # The full table is left out: the filtered one above takes its place.
    return table + "\n\n\n" + copy_source(features, ["feature_matrix"], frozenset({"FEATURE_FUNCTIONS"}))


def _targets(cce: bool) -> list[str]:
    return [
        "def targets(labels: np.ndarray) -> torch.Tensor:",
        '    """Training targets: class indices for cross-entropy, else a column (n, 1)."""',
        "    y = torch.from_numpy(np.asarray(labels, dtype=np.float32))",
        f"    return {'y.long()' if cce else 'y[:, None]'}",
        "",
        "",
    ]


def generated_data(config: SessionConfig) -> list[str]:
    """The data section for a generated data set: the playground's own generator code, copied."""
    d = config.data
    generator = datasets.GENERATORS[d.dataset].__name__
    call = f"{generator}(NUM_POINTS, NOISE / 100.0, rng" + (", CLASSES)" if d.dataset in datasets.MULTI_CLASS else ")")
    return [
        "# ---- data: copied from nnplayground.data ----------------------------------------------------",
        "",
        copy_source(datasets, [generator, "split3", "EXTENT"]),
        "",
        "",
        _feature_code(list(config.features)),
        "",
        "",
        *_targets(config.loss == "cce"),
        "def make_data() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:",
        '    """The train, validation (if any) and test parts as (features (n, k), targets), as in the playground."""',
        "    rng = np.random.default_rng(SEED)",
        f"    points, labels = {call}",
        "    order = rng.permutation(NUM_POINTS)  # shuffled before the split, as the playground does",
        "    points = np.clip(points[order], -EXTENT, EXTENT).astype(np.float32)",
        "    labels = labels[order].astype(np.float32)",
        "    parts = split3(points, labels, TRAIN_RATIO, VALIDATION_RATIO)",
        "    return {",
        "        name: (torch.from_numpy(feature_matrix(p, FEATURES)), targets(y))",
        '        for name, (p, y) in zip(("train", "validation", "test"), parts)',
        "        if len(p)",
        "    }",
        "",
        "",
    ]


def embedded_data(data: dict[str, tuple[list[Any], list[float]]], cce: bool) -> list[str]:
    """The data section for data no generator makes: each part as the network sees it, literally."""
    return [
        "# ---- data: the session's own (a table, or points uploaded or drawn) ------------------------",
        "# Each part as the network sees it: inputs (n, k) (columns standardised, or input features",
        "# of the points, as the session chose) and labels.",
        "",
        f"DATA = {pprint.pformat(data, sort_dicts=False, width=110, compact=True)}",
        "",
        "",
        *_targets(cce),
        "def make_data() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:",
        '    """The train, validation (if any) and test parts as (inputs, targets)."""',
        "    return {name: (torch.tensor(x, dtype=torch.float32).reshape(len(y), -1), targets(y))",
        "            for name, (x, y) in DATA.items()}",
        "",
        "",
    ]
