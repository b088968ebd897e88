"""The widget's "save caller" refuses a number that is no phone with the forms' own words."""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

from models.core.events import CallRang
from models.schema.leads import Lead
from models.schema.users import User
from models.telephony.caller_directory import caller_card
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    log_in,
    panel,
)


async def test_saving_a_caller_whose_number_is_no_phone_says_so_as_the_forms_do(
    panel, contexts, world
):
    await User.filter(id=world.luis.id).update(language="es")
    page = await log_in(await contexts(), panel, "luis", world.password)
    token = await page.get_attribute('meta[name="csrf-token"]', "content")
    # A PBX that passes a name where the number goes.
    panel.hub.publish(CallRang("x-1", "in", "101", world.luis.id, await caller_card("abc123")))
    await panel.hub.drain()
    answer = await page.request.post(
        panel.url + "/api/calls/save-caller",
        data={"linkedid": "x-1", "kind": "lead", "name": "Pedro"},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status == 422
    assert (await answer.json())["error"] == "Teléfono: «abc123» no es un número de teléfono"
    assert await Lead.all().count() == 0
