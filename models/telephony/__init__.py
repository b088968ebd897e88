"""Telephony: calls, from the caller's card while it rings to the stored call and its lead.

Owns the contract with the PBX adapter (`call_record`), caller lookup and the caller's card
(`caller_directory`), storing finished calls in batches (`call_store`) under per-number locks
(`number_locks`), listings of past calls (`call_history`), the live picture of calls and
extensions (`live_board`) and the auto-dialer's lists (`dialer`).
"""
