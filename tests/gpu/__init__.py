"""The GPU tier: every command end to end on CUDA (see ``conftest.py``)."""
