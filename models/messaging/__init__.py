"""Messaging: side effects that leave the CRM, and the channels they go through.

Owns the outbox (`outbox`), SMS (`sms`), outgoing email (`mail`) and Telegram chat links and call
notifications (`telegram_links`).
"""
