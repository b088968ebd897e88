"""Receiving mail (issue 16): each user's mailbox synced over IMAP into the CRM.

`sync_account_once` brings one mailbox up to date now (the `mail sync` command); the
`MailSyncRunner` keeps every enabled mailbox in sync while the daemon runs (IDLE or polling).
"""

from daemon.mail_sync.account import SyncReport, SyncTools, sync_account_once
from daemon.mail_sync.runner import MailSyncRunner

__all__ = ["MailSyncRunner", "SyncReport", "SyncTools", "sync_account_once"]
