"""``python -m medaug ...`` (and ``torchrun -m medaug ...``): the ``medaug`` command."""

from __future__ import annotations

from medaug.cli import main

if __name__ == "__main__":
    main()
