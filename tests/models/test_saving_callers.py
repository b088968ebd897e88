"""An agent saving a caller while the call ends: one lead, never two (L3, E1).

The call path makes an auto-lead of an unknown number when the call is stored; the widget's
"save the caller" and the bot's "create lead" make one when the agent asks. Each test stops the
agent's save right after its lookup found nobody, lets the call end and be stored meanwhile,
then lets the save go on: without the shared per-number lock both would create a lead.
"""

from __future__ import annotations

import asyncio

from models.messaging import telegram_links
from models.schema.calls import Call
from models.schema.clients import Phone
from models.schema.leads import Lead
from models.schema.users import User
from models.telephony.caller_directory import CallerDirectory
from models.telephony.live_board import save_caller
from models.telephony.number_locks import NumberLocks
from tests.call_records import inbound

NUMBER = "+34 611 222 333"
E164 = "+34611222333"


class WatchedLocks(NumberLocks):
    """Per-number locks that say when a second party holds or waits for one."""

    def __init__(self) -> None:
        super().__init__()
        self.contended = asyncio.Event()

    def _take(self, key: str) -> asyncio.Lock:
        lock = super()._take(key)
        if self.users(key) >= 2:
            self.contended.set()
        return lock


class PausingDirectory(CallerDirectory):
    """Stops whoever looks a number up (the agent's save) until the test lets it go on."""

    def __init__(self, region: str) -> None:
        super().__init__(region)
        self.number_locks = WatchedLocks()
        self.looked_up = asyncio.Event()
        self.go_on = asyncio.Event()

    async def find_by_phone(self, number: str):
        found = await super().find_by_phone(number)
        self.looked_up.set()
        await self.go_on.wait()
        return found


async def _store_while_paused(directory: PausingDirectory, save: asyncio.Task, linkedid: str):
    """With the save stopped after its lookup, the call ends and is handed to the store; the
    save goes on once the store holds or waits for the number's lock (or is done)."""
    await directory.looked_up.wait()
    store = asyncio.ensure_future(directory.record_call(inbound(linkedid, NUMBER)))
    contended = asyncio.ensure_future(directory.number_locks.contended.wait())
    await asyncio.wait({store, contended}, return_when=asyncio.FIRST_COMPLETED)
    contended.cancel()
    directory.go_on.set()
    saved, stored = await asyncio.gather(save, store)
    return saved, stored


async def _only_lead_of_the_number() -> Lead:
    phones = Phone.filter(e164=E164, lead_id__isnull=False)
    lead_ids = await phones.values_list("lead_id", flat=True)
    assert len(lead_ids) == 1, f"{len(lead_ids)} leads for {E164}"
    assert await Lead.all().count() == 1
    return await Lead.get(id=lead_ids[0])


async def test_the_widget_saving_the_caller_as_the_call_ends_makes_one_lead(world, clock):
    directory = PausingDirectory((await CallerDirectory.load()).region)
    save = asyncio.ensure_future(
        save_caller(
            world.luis,
            linkedid="race-1",
            number=NUMBER,
            kind="lead",
            name="Eva Sanz",
            clock=clock,
            callers=directory,
        )
    )
    saved, stored = await _store_while_paused(directory, save, "race-1")
    lead = await _only_lead_of_the_number()
    # The agent's lead, named by them; the call stored after it is linked to it.
    assert (lead.id, lead.name, lead.responsible_id) == (saved.lead_id, "Eva Sanz", world.luis.id)
    assert stored.lead_created is None
    assert (await Call.get(linkedid="race-1")).lead_id == lead.id


async def test_the_bot_creating_the_lead_as_the_call_ends_makes_one_lead(world, clock):
    await User.filter(id=world.luis.id).update(telegram_chat_id=5550101)
    luis = await User.get(id=world.luis.id)
    row = await telegram_links.remember_notification(
        "race-2", luis, direction="in", card={"number": NUMBER, "e164": E164}
    )
    assert row is not None
    directory = PausingDirectory((await CallerDirectory.load()).region)
    save = asyncio.ensure_future(
        telegram_links.contact_for_notification(row.id, luis, clock=clock, callers=directory)
    )
    (card, created), stored = await _store_while_paused(directory, save, "race-2")
    lead = await _only_lead_of_the_number()
    assert created and card["lead_id"] == lead.id
    assert stored.lead_created is None
    assert (await Call.get(linkedid="race-2")).lead_id == lead.id
