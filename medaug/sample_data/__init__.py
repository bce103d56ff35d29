"""Bundled demo data: a small ChestXray2017 sample (CC BY 4.0, see its NOTICE.md)."""
