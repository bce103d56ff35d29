"""Regenerate docs/cli.md from the live ``--help`` texts: ``python docs/make_cli_md.py``.

tests/core/test_docs.py fails when docs/cli.md and the code disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from medaug.cli import build_cli

HEADER = """\
# Command line reference

Generated from `--help` by `python docs/make_cli_md.py`; a test keeps it in step with the
code. Every command prints errors as one line on stderr and exits non-zero; add
`medaug --debug` for a traceback. `--json` outputs are plain JSON on stdout.
"""


def render() -> str:
    """The whole cli.md text."""
    group = build_cli()
    parts = [HEADER]
    # make_context applies each command's context_settings (the -h alias...), as a real run does
    settings = {"resilient_parsing": True, "terminal_width": 100, "max_content_width": 100}
    with group.make_context("medaug", [], **settings) as ctx:
        parts.append(f"## medaug\n\n```text\n{group.get_help(ctx)}\n```\n")
        for name in sorted(group.commands):
            cmd = group.commands[name]
            with cmd.make_context(name, [], parent=ctx, **settings) as sub:
                parts.append(f"## medaug {name}\n\n```text\n{cmd.get_help(sub)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    target = Path(__file__).with_name("cli.md")
    target.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
