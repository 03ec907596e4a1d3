"""Sage Intacct's XML gateway on loopback: see `emulator.py` for what it serves."""

from .emulator import COMPANY, PASSWORD, SENDER_ID, SENDER_PASSWORD, USER, IntacctEmulator

__all__ = ["COMPANY", "PASSWORD", "SENDER_ID", "SENDER_PASSWORD", "USER", "IntacctEmulator"]
