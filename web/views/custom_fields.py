"""The admin's additional fields of clients and leads (C5)."""

from __future__ import annotations

from aiohttp import web

from models.contacts import clients as client_ops
from models.core.errors import Conflict, ValidationFailed
from models.people.permissions import require
from web.templating import flash, gettext, render
from web.views.common import current_user, form_data, path_id, text_values


async def fields_page(request: web.Request, *, form=None, errors=None, status=200):
    user = current_user(request)
    require(user, "settings.manage")
    context = {
        "section": "fields",
        "client_fields": await client_ops.list_custom_fields("client"),
        "lead_fields": await client_ops.list_custom_fields("lead"),
        "kinds": client_ops.FIELD_KINDS,
        "form": form or {"kind": "text", "applies_to": "client"},
        "errors": errors or {},
    }
    return render(request, "settings/custom_fields.html", context, status=status)


async def add_field(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    values = text_values(form)
    choices = [c.strip() for c in values.get("choices", "").replace("\n", ",").split(",")]
    try:
        await client_ops.define_custom_field(
            user,
            values.get("key", ""),
            values.get("label", ""),
            values.get("kind", "text"),
            choices=choices,
            applies_to=values.get("applies_to", "client"),
        )
    except ValidationFailed as err:
        return await fields_page(request, form=values, errors=err.fields, status=422)
    except Conflict as err:
        return await fields_page(
            request, form=values, errors={err.field or "key": str(err)}, status=409
        )
    flash(request, gettext(request, "Field added."))
    raise web.HTTPSeeOther("/settings/custom-fields")


async def delete_field(request: web.Request) -> web.Response:
    user = current_user(request)
    await client_ops.delete_custom_field(user, path_id(request))
    flash(request, gettext(request, "Field removed."))
    raise web.HTTPSeeOther("/settings/custom-fields")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/settings/custom-fields", fields_page)
    app.router.add_post("/settings/custom-fields", add_field)
    app.router.add_post(r"/settings/custom-fields/{id:\d+}/delete", delete_field)
