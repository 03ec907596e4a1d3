"""The Exact Online emulator: see `emulator.py` for the endpoints it serves."""

from .emulator import CLIENT_ID, CLIENT_SECRET, EXACT_QUOTAS, ExactOnlineEmulator

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "EXACT_QUOTAS", "ExactOnlineEmulator"]
