"""The profile's API tokens page (issue 18): a user's tokens for /api/v1, with their last use;
create one (shown once, on the page that answers the form) and revoke one."""

from __future__ import annotations

from aiohttp import web

from models.core.errors import ValidationFailed
from models.people import api_tokens as token_ops
from web.templating import flash, gettext, render
from web.views.common import clock, current_user, form_data, path_id, text_values


async def tokens_page(
    request: web.Request,
    *,
    fresh: str = "",
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    user = current_user(request)
    context = {
        "section": "profile",
        "tokens": await token_ops.list_tokens(user),
        "fresh": fresh,
        "form": form or {"scope": "read"},
        "errors": errors or {},
        "scope_options": [
            ("read", gettext(request, "Read")),
            ("write", gettext(request, "Read and write")),
        ],
        "api_url": f"{request.scheme}://{request.host}/api/v1",
    }
    response = render(request, "settings/api_tokens.html", context, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def create_token(request: web.Request) -> web.Response:
    user = current_user(request)
    values = text_values(await form_data(request))
    try:
        _, plain = await token_ops.create_token(
            user,
            name=values.get("name", ""),
            scope=values.get("scope", "read"),
            clock=clock(request),
        )
    except ValidationFailed as err:
        return await tokens_page(request, form=values, errors=err.fields, status=422)
    # Not a redirect: the plain token is kept nowhere, this answer is the only place it shows.
    return await tokens_page(request, fresh=plain)


async def revoke_token(request: web.Request) -> web.Response:
    await token_ops.revoke_token(current_user(request), path_id(request), clock=clock(request))
    flash(request, gettext(request, "Token revoked: programs using it can no longer connect."))
    raise web.HTTPSeeOther("/settings/api-tokens")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/settings/api-tokens", tokens_page)
    app.router.add_post("/settings/api-tokens", create_token)
    app.router.add_post(r"/settings/api-tokens/{id:\d+}/revoke", revoke_token)
