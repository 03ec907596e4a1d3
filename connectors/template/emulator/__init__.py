"""The template API's emulator: see `emulator.py` for the endpoints it serves."""

from .emulator import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, TemplateEmulator

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "PASSWORD", "USERNAME", "TemplateEmulator"]
