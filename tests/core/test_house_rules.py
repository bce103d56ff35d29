"""House rules the code keeps, checked on its source: no function in ``medaug/`` or
``plugins/`` takes more than six parameters (dataclass constructors and Click commands
aside): where a list grows, a small parameter object takes its place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_PARAMETERS = 6


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = node.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return len(names) + (args.vararg is not None) + (args.kwarg is not None)


def _is_click_command(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(ast.unparse(d).startswith("click.command") for d in node.decorator_list)


def long_signatures(root: Path) -> list[str]:
    """``path:line name (n)`` of every function over :data:`MAX_PARAMETERS` in ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            n = _parameters(node)
            if n > MAX_PARAMETERS and not _is_click_command(node):
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({n})")
    return found


@pytest.mark.parametrize("package", ["medaug", "plugins"])
def test_no_function_takes_more_than_six_parameters(package: str) -> None:
    assert long_signatures(ROOT / package) == []


def test_the_rule_sees_a_long_signature(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "def short(a, b, *, c=1): ...\nclass C:\n    def long(self, a, b, c, d, e, f, **g): ...\n",
        encoding="utf-8",
    )
    assert long_signatures(tmp_path) == ["m.py:3 long (7)"]
