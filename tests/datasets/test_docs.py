"""The "Dataset classes" section of docs/api.md runs as written on a real balance output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _section_code(title: str) -> list[str]:
    text = API_MD.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_dataset_classes_snippets_run(
    balanced_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = _section_code("Dataset classes")
    assert len(blocks) == 2
    assert 'OUT = "balanced"' in blocks[0]
    namespace: dict[str, object] = {}
    for code in blocks:
        exec(code.replace('OUT = "balanced"', f"OUT = {str(balanced_out)!r}"), namespace)
    printed = capsys.readouterr().out
    assert "synthetic_1_00000.png" in printed and "'source': 'synthetic'" in printed
    images = namespace["images"]
    assert tuple(images.shape[1:]) == (1, 32, 32)  # type: ignore[attr-defined]
