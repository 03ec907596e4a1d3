"""The Act-On emulator: see `emulator.py` for the endpoints it serves."""

from .emulator import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, VENDOR_QUOTAS, ActOnEmulator

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "PASSWORD", "USERNAME", "VENDOR_QUOTAS", "ActOnEmulator"]
