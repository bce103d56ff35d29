"""Core commands: one module per command, each exposing a Click ``command``."""
