"""Showing a stored email (C7): who may read it, and its HTML made safe to display.

The HTML is kept as received and sanitized each time it is shown, with nh3 (the Rust
`ammonia` sanitizer): formatting, tables and links stay; scripts, styles, forms, frames and
event handlers go; links open in a new tab with rel="noopener noreferrer"; `cid:` images point
at the message's own attachments; remote images are left out unless the reader asks for them
(they tell the sender that and when the message was read).
"""

from __future__ import annotations

from dataclasses import dataclass

import nh3

from models.core.errors import NotFound, msg
from models.core.sql import is_id
from models.people.permissions import CLIENTS, LEADS, may_see
from models.schema.activity import EmailMessage
from models.schema.clients import Client
from models.schema.leads import Lead
from models.schema.mail import MailAccount, MailAccountShare, MailAttachment
from models.schema.users import User

_TAGS = {
    "a", "abbr", "address", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center",
    "cite", "code", "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "font",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var",
}  # fmt: skip
_CELL = {"align", "valign", "width", "height", "colspan", "rowspan", "bgcolor", "nowrap"}
_ATTRIBUTES = {
    "*": {"style", "title", "dir", "lang", "align"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height", "border"},
    "table": {"width", "border", "cellpadding", "cellspacing", "bgcolor", "height"},
    "td": _CELL,
    "th": _CELL,
    "tr": {"valign", "bgcolor", "height"},
    "col": {"width", "span"},
    "colgroup": {"width", "span"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "blockquote": {"cite"},
}
# Inline CSS that formats; nothing that loads a URL (background-image, list-style-image ...).
_STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style",
    "font-weight", "font-variant", "text-align", "text-decoration", "text-transform",
    "text-indent", "line-height", "letter-spacing", "word-spacing", "white-space",
    "vertical-align", "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left", "border",
    "border-top", "border-right", "border-bottom", "border-left", "border-color",
    "border-style", "border-width", "border-collapse", "border-spacing", "border-radius",
    "width", "height", "max-width", "min-width", "max-height", "min-height", "display",
    "direction", "table-layout",
}  # fmt: skip
_REMOVED_WITH_CONTENT = {"script", "style", "title", "head", "noscript", "template", "textarea"}
_LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:")


@dataclass(frozen=True)
class CleanHtml:
    html: str
    blocked_images: int  # remote images left out


def sanitize(
    html: str, attachment_urls_by_cid: dict[str, str], *, remote_images: bool = False
) -> CleanHtml:
    """The message's HTML made safe to show (see the module's text)."""
    blocked = 0

    def keep(tag: str, attribute: str, value: str) -> str | None:
        nonlocal blocked
        lowered = value.strip().lower()
        if tag == "img" and attribute == "src":
            if lowered.startswith("cid:"):
                return attachment_urls_by_cid.get(value.strip()[4:].strip("<>"))
            if lowered.startswith("data:image/") and not lowered.startswith("data:image/svg"):
                return value
            if lowered.startswith(("http:", "https:")):
                if remote_images:
                    return value
                blocked += 1
            return None
        if tag == "a" and attribute == "href":
            return value if lowered.startswith(_LINK_SCHEMES) or lowered.startswith("#") else None
        return value

    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags=_REMOVED_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        attribute_filter=keep,
        link_rel="noopener noreferrer",
        url_schemes={"http", "https", "mailto", "tel", "cid", "data"},
        filter_style_properties=_STYLE_PROPERTIES,
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return CleanHtml(cleaned, blocked)


def safe_html(
    html: str, attachment_urls_by_cid: dict[str, str], *, remote_images: bool = False
) -> str:
    """`sanitize`'s HTML alone."""
    return sanitize(html, attachment_urls_by_cid, remote_images=remote_images).html


def _not_found(email_id: int | str) -> NotFound:
    return NotFound(msg("email %(id)s not found", id=email_id))


async def may_read(user: User, email: EmailMessage) -> bool:
    """Whether `user` may read the message: they may see its client or lead, or use the
    mailbox it came through (or they sent it)."""
    if email.client_id is not None:
        owner = await Client.filter(id=email.client_id).values_list("responsible_id", flat=True)
        if owner and may_see(user, CLIENTS, owner[0]):  # type: ignore[arg-type]
            return True
    elif email.lead_id is not None:
        owner = await Lead.filter(id=email.lead_id).values_list("responsible_id", flat=True)
        if owner and may_see(user, LEADS, owner[0]):  # type: ignore[arg-type]
            return True
    if email.user_id == user.id:
        return True
    if email.account_id is None:
        return False
    if await MailAccount.exists(id=email.account_id, owner_id=user.id):
        return True
    return await MailAccountShare.exists(account_id=email.account_id, user_id=user.id)


async def visible_email(user: User, email_id: int) -> EmailMessage:
    """The message if `user` may read it (`may_read`); NotFound as for a missing one."""
    email = await EmailMessage.get_or_none(id=email_id) if is_id(email_id) else None
    if email is None or not await may_read(user, email):
        raise _not_found(email_id)
    return email


async def contact_of(user: User, email: EmailMessage) -> tuple[Client | None, Lead | None]:
    """The client and the lead the message is about, each only if `user` may see it (a
    mailbox's user reads its mail about a colleague's client, but not that client's card)."""
    client = await Client.get_or_none(id=email.client_id) if email.client_id else None
    if client is not None and not may_see(user, CLIENTS, client.responsible_id):
        client = None
    lead = await Lead.get_or_none(id=email.lead_id) if email.lead_id else None
    if lead is not None and not may_see(user, LEADS, lead.responsible_id):
        lead = None
    return client, lead


async def attachments_of(email: EmailMessage) -> list[MailAttachment]:
    return await MailAttachment.filter(email_id=email.id).order_by("id")


async def visible_attachment(user: User, email_id: int, attachment_id: int) -> MailAttachment:
    """An attachment of a message `user` may read; NotFound as for a missing one."""
    email = await visible_email(user, email_id)
    found = (
        await MailAttachment.get_or_none(id=attachment_id, email_id=email.id)
        if is_id(attachment_id)
        else None
    )
    if found is None:
        raise NotFound(msg("attachment %(id)s not found", id=attachment_id))
    return found
