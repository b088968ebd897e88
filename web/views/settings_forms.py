"""Settings -> Web forms (E3): the admin's form sources, their counts and copy-paste snippets.

The rules live in models/sales/form_leads.py; this module reads forms and shows pages. Each
form's snippet is a plain HTML <form> posting to `[web] public_url` (else the address this
page was asked on) + /api/v1/forms/{key}, with the honeypot and the page's utm_* values filled
by a small script, and a fetch() variant for pages that send it
from JavaScript.
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from models.core.errors import ValidationFailed
from models.people.permissions import require
from models.people.team import roster
from models.sales import form_leads
from models.schema.integrations import FormSource
from web.keys import SETTINGS
from web.templating import flash, gettext, render, say
from web.views.common import current_user, form_data, int_param, path_id, text_values

UTM_SCRIPT = """<script>
  // Fills the hidden utm_source, utm_medium, ... with those of this page's address.
  (function () {
    var form = document.getElementById("centralita-form");
    var query = new URLSearchParams(location.search);
    form.querySelectorAll("input[name^=utm_]").forEach(function (input) {
      input.value = query.get(input.name) || "";
    });
  })();
</script>"""


def _public_base(request: web.Request) -> str:
    configured = request.app[SETTINGS].web.public_url.rstrip("/")
    return configured or f"{request.scheme}://{request.host}"


def _attr(request: web.Request, text: str) -> str:
    return html.escape(gettext(request, text))


def _fields(request: web.Request, *, utm: bool) -> str:
    lines = [
        f'  <input name="name" placeholder="{_attr(request, "Name")}">',
        f'  <input name="phone" type="tel" placeholder="{_attr(request, "Phone")}">',
        f'  <input name="email" type="email" placeholder="{_attr(request, "Email")}">',
        f'  <textarea name="message" placeholder="{_attr(request, "Message")}"></textarea>',
    ]
    if utm:
        lines += [f'  <input type="hidden" name="{name}">' for name in form_leads.UTM_FIELDS]
    hidden = html.escape(gettext(request, "Leave this field hidden and empty: robots fill it."))
    return "\n".join(
        [
            *lines,
            f"  <!-- {hidden} -->",
            f'  <input name="{form_leads.HONEYPOT}" tabindex="-1" autocomplete="off"'
            ' aria-hidden="true" style="position:absolute;left:-5000px">',
        ]
    )


def endpoint(request: web.Request, form: FormSource) -> str:
    return f"{_public_base(request)}/api/v1/forms/{form.key}"


def html_snippet(request: web.Request, form: FormSource) -> str:
    """A plain form: without a script it still works (the browser lands on a thank-you page)."""
    return "\n".join(
        [
            f'<form id="centralita-form" method="post" action="{endpoint(request, form)}">',
            _fields(request, utm=True),
            f'  <button type="submit">{_attr(request, "Send")}</button>',
            "</form>",
            UTM_SCRIPT,
        ]
    )


def fetch_snippet(request: web.Request, form: FormSource) -> str:
    url = endpoint(request, form)
    sent = gettext(request, "Thank you, we will contact you soon.").replace('"', "'")
    return "\n".join(
        [
            '<form id="centralita-form">',
            _fields(request, utm=False),
            f'  <button type="submit">{_attr(request, "Send")}</button>',
            "</form>",
            "<script>",
            '  document.getElementById("centralita-form").addEventListener("submit",',
            "    async function (event) {",
            "      event.preventDefault();",
            "      var data = Object.fromEntries(new FormData(event.target));",
            "      new URLSearchParams(location.search).forEach(function (value, name) {",
            '        if (name.indexOf("utm_") === 0) data[name] = value;',
            "      });",
            f'      var answer = await fetch("{url}", {{',
            '        method: "POST",',
            '        headers: {"Content-Type": "application/json"},',
            "        body: JSON.stringify(data),",
            "      });",
            f'      if (answer.ok) event.target.replaceWith("{sent}");',
            "      else alert((await answer.json()).detail);",
            "    });",
            "</script>",
        ]
    )


def _input(values: dict[str, str]) -> form_leads.FormInput:
    return form_leads.FormInput(
        name=values.get("name", ""),
        origins=values.get("origins", ""),
        source_tag_id=int_param(values.get("source_tag_id") or None),
        responsible_id=int_param(values.get("responsible_id") or None),
    )


async def forms_page(
    request: web.Request,
    *,
    errors: dict[str, Any] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    user = current_user(request)
    require(user, "settings.manage")
    sources = await form_leads.list_forms(user)
    context = {
        "section": "forms",
        "sources": [
            {
                "row": s,
                "origins": "\n".join(s.allowed_origins),
                "endpoint": endpoint(request, s),
                "html": html_snippet(request, s),
                "fetch": fetch_snippet(request, s),
            }
            for s in sources
        ],
        "tags": [(str(t.id), t.name) for t in await form_leads.source_tags(user)],
        "users": [(str(u.id), str(u)) for u in await roster()],
        "form": form or {},
        "errors": errors or {},
    }
    return render(request, "settings/forms.html", context, status=status)


async def create(request: web.Request) -> web.Response:
    user = current_user(request)
    values = text_values(await form_data(request))
    try:
        source = await form_leads.create_form(user, _input(values))
    except ValidationFailed as err:
        return await forms_page(request, errors=err.fields, form=values, status=422)
    flash(request, gettext(request, "Web form %(name)s created.", name=source.name))
    raise web.HTTPSeeOther(f"/settings/forms#form-{source.id}")


async def save(request: web.Request) -> web.Response:
    user = current_user(request)
    posted = await form_data(request)
    values = text_values(posted)
    form_id = path_id(request)
    try:
        await form_leads.update_form(
            user, form_id, _input(values), enabled=posted.get("enabled") == "on"
        )
    except ValidationFailed as err:
        text = "; ".join(say(request, message) for message in err.fields.values())
        return await forms_page(request, errors={"__all__": text}, status=422)
    flash(request, gettext(request, "Web form saved."))
    raise web.HTTPSeeOther(f"/settings/forms#form-{form_id}")


async def delete(request: web.Request) -> web.Response:
    user = current_user(request)
    await form_leads.delete_form(user, path_id(request))
    flash(request, gettext(request, "Web form removed."))
    raise web.HTTPSeeOther("/settings/forms")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/settings/forms", forms_page)
    app.router.add_post("/settings/forms", create)
    app.router.add_post(r"/settings/forms/{id:\d+}", save)
    app.router.add_post(r"/settings/forms/{id:\d+}/delete", delete)
