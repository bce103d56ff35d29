"""medaug's version: one place, read by the package facade, the writers that stamp it
into their output, and the build (``pyproject.toml``)."""

__version__ = "0.1.0"
