"""Mailboxes (G5): each user's IMAP/SMTP accounts, what was synced from them, attachments.

The messages themselves are `EmailMessage` rows (models/schema/activity.py) so that the
timeline, lead conversion and search treat mail like notes and calls.
"""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.activity import EmailMessage
    from models.schema.users import User


class MailAccount(Model):
    """One mailbox connected by a user. The password is kept encrypted (models/core/secret_box.py)
    and never leaves the server; `security` is tls (implicit TLS), starttls or none."""

    id = fields.IntField(primary_key=True)
    owner: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="mail_accounts", on_delete=fields.CASCADE
    )
    owner_id: int
    address = fields.CharField(max_length=254)
    display_name = fields.CharField(max_length=150, default="")
    provider = fields.CharField(max_length=20, default="custom")  # a preset key, or custom
    login = fields.CharField(max_length=254)
    password_encrypted = fields.TextField(default="")
    imap_host = fields.CharField(max_length=253)
    imap_port = fields.IntField()
    imap_security = fields.CharField(max_length=10, default="tls")
    smtp_host = fields.CharField(max_length=253)
    smtp_port = fields.IntField()
    smtp_security = fields.CharField(max_length=10, default="starttls")
    # The server files sent mail itself (Gmail, Outlook): no IMAP APPEND after sending.
    server_saves_sent = fields.BooleanField(default=False)
    sent_folder = fields.CharField(max_length=200, default="")  # "" until found on the server
    signature = fields.TextField(default="")
    # Leads from new mail (E3): from unknown senders; and, if chosen, to unknown recipients.
    leads_from_senders = fields.BooleanField(default=True)
    leads_from_recipients = fields.BooleanField(default=False)
    first_sync_days = fields.IntField(default=30)
    enabled = fields.BooleanField(default=True)
    idle_supported = fields.BooleanField(null=True)
    last_sync_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    shares: fields.ReverseRelation["MailAccountShare"]

    class Meta:
        table = "mail_account"
        unique_together = (("owner_id", "address"),)


class MailAccountShare(Model):
    """A user other than the owner who may read and send from a mailbox."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[MailAccount] = fields.ForeignKeyField(
        "crm.MailAccount", related_name="shares", on_delete=fields.CASCADE
    )
    account_id: int
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="shared_mail_accounts", on_delete=fields.CASCADE
    )
    user_id: int

    class Meta:
        table = "mail_account_share"
        unique_together = (("account_id", "user_id"),)


class MailFolderState(Model):
    """Where the sync of one folder stands: a restart neither misses nor repeats a message.
    A different UIDVALIDITY from the server means the UIDs were renumbered."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[MailAccount] = fields.ForeignKeyField(
        "crm.MailAccount", related_name="folders", on_delete=fields.CASCADE
    )
    account_id: int
    name = fields.CharField(max_length=200)
    role = fields.CharField(max_length=10, default="inbox")  # inbox|sent
    uidvalidity = fields.BigIntField(default=0)
    last_uid = fields.BigIntField(default=0)
    synced_at = fields.DatetimeField(null=True)

    class Meta:
        table = "mail_folder_state"
        unique_together = (("account_id", "name"),)


class MailExclusion(Model):
    """An address (or @domain) whose mail is never recorded: banks, newsletters, colleagues."""

    id = fields.IntField(primary_key=True)
    pattern = fields.CharField(max_length=254, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mail_exclusion"


class MailAttachment(Model):
    """A file of a message, kept under data_dir (`path` is relative to the attachments folder).
    Inline parts (images referenced by cid:) have their `content_id`."""

    id = fields.IntField(primary_key=True)
    email: fields.ForeignKeyRelation["EmailMessage"] = fields.ForeignKeyField(
        "crm.EmailMessage", related_name="attachments", on_delete=fields.CASCADE
    )
    email_id: int
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=127, default="application/octet-stream")
    size = fields.IntField(default=0)
    path = fields.CharField(max_length=300, default="")  # "" when over the size cap
    content_id = fields.CharField(max_length=255, default="")
    skipped = fields.BooleanField(default=False)  # over the cap: named, not kept

    class Meta:
        table = "mail_attachment"
        indexes = (("email_id",),)
