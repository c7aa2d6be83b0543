"""The layout shows the architecture: imports go downward only (issue 15).

validators <- extractors <- pipeline <- operations (store, backlog, intake, objects, notify) / devtools
<- flows <- operations.cli / console / api <- zizhi (the command line). Checked on the source, imports inside
functions included: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

# package (or module) -> top-level names it must never import
FORBIDDEN = {
    "validators": {"extractors", "pipeline", "operations", "devtools", "console", "flows", "zizhi"},
    "extractors": {"pipeline", "operations", "devtools", "console", "flows", "zizhi"},
    "pipeline": {"operations", "devtools", "console", "flows", "zizhi"},
    # the listing's media (issue 23) sit below the licence reader and the rules that call them
    "pipeline/media": {"extractors", "pipeline.checks", "pipeline.runner", "pipeline.document", "pipeline.cli",
                       "pipeline.brand_chain", "pipeline.seals", "pipeline.capture_flags"},
    "devtools": {"operations", "console", "flows", "zizhi"},
    "operations/store.py": {"devtools", "console", "flows", "zizhi"},
    "operations/backlog.py": {"devtools", "console", "flows", "zizhi"},
    # The intake API's records, object storage and notifications sit beside the store: below flows.
    "operations/intake.py": {"devtools", "console", "flows", "zizhi", "api"},
    "operations/objects.py": {"devtools", "console", "flows", "zizhi", "api"},
    "operations/notify.py": {"devtools", "console", "flows", "zizhi", "api"},
    "operations": {"console", "zizhi", "api"},
    "console": {"flows", "devtools", "zizhi", "api"},
    # The intake API, at the console's level: it runs flows only through operations (the embedded
    # worker) and uses the console's hardened uvicorn protocol (console.server), nothing else of it.
    "api": {"flows", "devtools", "zizhi"},
    "flows.py": {"console", "zizhi", "api"},
}


def imported_roots(path: Path, depth: int = 1) -> dict[str, int]:
    """Top-level names a module imports (absolute imports), with the line of the first import; with
    `depth` 2, also each name's first two parts (`pipeline.checks`)."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            for d in range(1, depth + 1):
                found.setdefault(".".join(name.split(".")[:d]), node.lineno)
    return found


def modules(part: str) -> list[Path]:
    target = ROOT / part
    return [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))


def test_imports_go_downward_only():
    wrong = []
    for part, forbidden in FORBIDDEN.items():
        assert modules(part), f"nothing found at {part}"
        for path in modules(part):
            for name, line in imported_roots(path, depth=2).items():
                if name in forbidden:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from console.app import create_app\n    import flows\n")
    assert imported_roots(bad) == {"console": 2, "flows": 3}
