"""Layering: the RT-1 baseline builds on the shared pieces, never on the modules that dispatch to
it (``rt2.training.factory`` builds RT-1 and ``rt2.bench`` times it), so there is no import cycle."""

import ast
from pathlib import Path

import rt2

SRC = Path(rt2.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_rt1_imports_neither_the_factory_nor_the_vla_bench():
    files = sorted((SRC / "baselines" / "rt1").glob("*.py"))
    assert len(files) >= 8
    offenders = {
        f.name: sorted(imported_modules(f) & {"rt2.training.factory", "rt2.bench"}) for f in files
    }
    assert not {k: v for k, v in offenders.items() if v}, offenders
    # while the dispatching modules do import RT-1 (the one direction left)
    assert "rt2.baselines.rt1" in imported_modules(SRC / "training" / "factory.py")
    assert "rt2.baselines.rt1.bench" in imported_modules(SRC / "bench.py")


def test_one_checkpoint_policy_loader():
    for path in (SRC / "policies" / "vla.py", SRC / "policies" / "rt1.py"):
        text = path.read_text()
        assert "def load_" not in text and "register_checkpoint_loader" not in text, path
