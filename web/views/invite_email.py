"""The invitation email (M2), written in the inviting admin's language."""

from __future__ import annotations

from aiohttp import web
from markupsafe import escape

from models.messaging.mail import OutgoingEmail
from models.schema.users import User
from web.templating import translator


def compose_invite(
    request: web.Request, *, to: str, link: str, inviter: User, company: str, hours: int
) -> OutgoingEmail:
    """Subject, plain text and an HTML alternative carrying the single-use `link`."""
    _ = translator(request).gettext
    values = {"inviter": str(inviter), "company": company, "hours": hours}
    subject = _("Invitation to join %(company)s on Centralita CRM") % values
    intro = _("%(inviter)s invites you to join the team of %(company)s on Centralita CRM.") % values
    action = _("Open this link to choose your username and password:")
    expiry = _("The link works once and expires in %(hours)s hours.") % values
    ignore = _("If you were not expecting this invitation, you can ignore this email.")
    text = "\n\n".join([_("Hello,"), intro, f"{action}\n{link}", expiry, ignore]) + "\n"
    html = (
        f"<p>{escape(_('Hello,'))}</p>\n<p>{escape(intro)}</p>\n"
        f'<p>{escape(action)}<br>\n<a href="{escape(link)}">{escape(link)}</a></p>\n'
        f"<p>{escape(expiry)}</p>\n<p>{escape(ignore)}</p>\n"
    )
    return OutgoingEmail(to=to, subject=subject, text=text, html=html)
