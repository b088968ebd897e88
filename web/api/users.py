"""/api/v1/users (read only): the active team as every user sees it in the panel
(models/people/team.py), to fill a responsible_id or an assignee."""

from __future__ import annotations

from aiohttp import web

from models.core.errors import NotFound, msg
from models.people import team
from models.schema.users import User
from web.api.activity_schemas import UserList, UserOut
from web.api.core import Route, answer, api_user, path_id


def _out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        extension=user.extension,
        position=user.position,
        group=user.group.name,
    )


async def list_users(request: web.Request) -> web.Response:
    users = await team.list_users(api_user(request))
    return answer(UserList(items=[_out(u) for u in users]))


async def get_user(request: web.Request) -> web.Response:
    user_id = path_id(request)
    for user in await team.list_users(api_user(request)):
        if user.id == user_id:
            return answer(_out(user))
    raise NotFound(msg("user %(id)s not found", id=user_id))


ROUTES = [
    Route("GET", "/users", list_users, "List the team", answer=UserList),
    Route("GET", "/users/{id}", get_user, "Get a user", answer=UserOut),
]
