"""SMS end to end: the domain queues through the outbox, the worker sends through the HTTP driver
to a local gateway (real HTTP) or through chan_dongle on the PBX simulator (real AMI over TCP)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiohttp import web

from daemon.ami.link import AmiLink, fan_out
from daemon.outbox_worker import OutboxWorker
from daemon.sms.dongle import DongleEvents, DongleGateway
from daemon.sms.gateway import SmsSender
from daemon.sms.http_gateway import HttpGateway
from models.contacts.clients import ClientInput, create_client
from models.core.clock import SystemClock
from models.core.errors import PermissionDenied, ValidationFailed
from models.core.events import TaskDone
from models.core.settings import SmsSettings
from models.messaging import bulk_sms, outbox
from models.messaging import sms as sms_ops
from models.schema.activity import Sms, TimelineEntry
from models.schema.leads import Lead
from models.schema.tasks import Task
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import Recorder, RecordingSleep, ami_settings, eventually

sim = fx.sim
POLICY = sms_ops.SmsPolicy(max_length=160, long_messages="split")


class Gateway:
    """A local HTTP SMS gateway: records each message; can be down (503) for a while."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.auth: list[str] = []
        self.failures_left = 0
        self.refuse_numbers: set[str] = set()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.failures_left > 0:
            self.failures_left -= 1
            return web.Response(status=503, text="maintenance")
        if body["to"] in self.refuse_numbers:
            return web.json_response({"error": "blocked number"}, status=400)
        self.auth.append(request.headers.get("Authorization", ""))
        self.received.append(body)
        return web.json_response({"id": f"gw-{body['ref']}"})


@pytest.fixture
async def gateway():
    gw = Gateway()
    app = web.Application()
    app.router.add_post("/send", gw.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    gw.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/send"
    yield gw
    await runner.cleanup()


def http_settings(gw: Gateway, **more) -> SmsSettings:
    return SmsSettings(driver="http", http_url=gw.url, http_auth_header="Bearer s3cret", **more)


@pytest.fixture
async def http_worker(gateway):
    """start() -> a started outbox worker sending SMS through the HTTP driver."""
    made: list[tuple[OutboxWorker, HttpGateway]] = []

    async def start() -> OutboxWorker:
        driver = HttpGateway(http_settings(gateway))
        worker = OutboxWorker(clock=SystemClock(), poll_interval=0.05, base_backoff=0.05)
        worker.register(sms_ops.KIND, SmsSender(driver, SystemClock()))
        await worker.start()
        made.append((worker, driver))
        return worker

    yield start
    for worker, driver in made:
        await worker.stop()
        await driver.close()


async def all_sent(count: int) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + 20
    while (await outbox.counts(sms_ops.KIND))[outbox.SENT] < count:
        if loop.time() > end:
            raise AssertionError(f"not all sent: {await outbox.counts(sms_ops.KIND)}")
        await asyncio.sleep(0.02)


async def test_an_sms_from_the_card_goes_through_the_http_gateway_and_is_on_the_timeline(
    world, gateway, http_worker
):
    clock = SystemClock()
    client = await create_client(
        world.luis, ClientInput(name="Eva Soto", phones=["+34600111222"]), clock=clock
    )
    sms = await sms_ops.send_sms(
        world.luis, "600 111 222", 'Hola "Eva", mañana a las 10', clock=clock, policy=POLICY
    )
    await http_worker()
    await all_sent(1)
    assert gateway.received == [
        {"to": "+34600111222", "text": 'Hola "Eva", mañana a las 10', "ref": str(sms.id)}
    ]
    assert gateway.auth == ["Bearer s3cret"]
    stored = await Sms.get(id=sms.id)
    assert (stored.status, stored.gateway_ref, stored.client_id) == (
        "sent",
        f"gw-{sms.id}",
        client.id,
    )
    entry = await TimelineEntry.get(client_id=client.id, kind="sms")
    assert entry.ref_id == sms.id


async def test_a_gateway_outage_delays_sms_and_none_is_lost_or_sent_twice(
    world, gateway, http_worker
):
    clock = SystemClock()
    gateway.failures_left = 7
    numbers = [f"+3460011{i:04d}" for i in range(20)]
    for number in numbers:
        await sms_ops.send_sms(world.luis, number, "Oferta", clock=clock, policy=POLICY)
    first = await http_worker()
    await eventually(lambda: len(gateway.received) >= 5)
    await first.stop()  # the daemon restarts in the middle of the batch
    await http_worker()
    await all_sent(20)
    assert sorted(m["to"] for m in gateway.received) == numbers  # each exactly once
    assert await Sms.filter(status="sent").count() == 20


async def test_a_long_message_is_split_or_refused_as_configured(world, gateway, http_worker):
    clock = SystemClock()
    text = "x" * 200
    sms = await sms_ops.send_sms(world.luis, "+34600111222", text, clock=clock, policy=POLICY)
    await http_worker()
    await all_sent(1)
    assert [m["text"] for m in gateway.received] == ["x" * 160, "x" * 40]
    assert [m["ref"] for m in gateway.received] == [f"{sms.id}.1", f"{sms.id}.2"]
    refuse = sms_ops.SmsPolicy(max_length=160, long_messages="refuse")
    with pytest.raises(ValidationFailed, match="200 characters.*at most 160"):
        await sms_ops.send_sms(world.luis, "+34600111222", text, clock=clock, policy=refuse)
    assert await Sms.all().count() == 1


async def test_a_refused_sms_is_failed_with_the_gateways_reason(world, gateway, http_worker):
    clock = SystemClock()
    gateway.refuse_numbers.add("+34600999999")
    sms = await sms_ops.send_sms(world.luis, "+34600999999", "hola", clock=clock, policy=POLICY)
    await http_worker()
    await eventually_db(lambda: Sms.filter(id=sms.id, status="failed").exists())
    assert "blocked number" in (await Sms.get(id=sms.id)).error
    with pytest.raises(ValidationFailed, match="not a valid phone number"):
        await sms_ops.send_sms(world.luis, "12", "hola", clock=clock, policy=POLICY)


async def eventually_db(predicate, within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not await predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def test_bulk_sms_from_a_template_with_a_delivery_report_per_recipient(
    world, gateway, http_worker
):
    clock = SystemClock()
    eva = await create_client(world.ana, ClientInput(name="Eva Soto", phones=["+34600000001"]))
    juan = await create_client(
        world.ana, ClientInput(name="Juan Gil", phones=["+34600000002"], company_name="Gil SL")
    )
    nobody = await create_client(world.ana, ClientInput(name="Sin Móvil"))
    with pytest.raises(ValidationFailed, match="unknown variable"):
        await bulk_sms.send_bulk(world.ana, [eva.id], "Hola {nmae}", clock=clock, policy=POLICY)
    with pytest.raises(PermissionDenied):
        await bulk_sms.send_bulk(world.luis, [eva.id], "Hola", clock=clock, policy=POLICY)
    batch, left_out = await bulk_sms.send_bulk(
        world.ana,
        [eva.id, juan.id, nobody.id],
        "Hola {first_name} ({company}), te esperamos",
        clock=clock,
        policy=POLICY,
    )
    assert left_out == ["Sin Móvil: no phone number"]
    await http_worker()
    await all_sent(2)
    assert sorted(m["text"] for m in gateway.received) == [
        "Hola Eva (), te esperamos",
        "Hola Juan (Gil SL), te esperamos",
    ]
    eva_sms = await Sms.get(client_id=eva.id)
    await sms_ops.apply_status("delivered", clock=clock, gateway_ref=eva_sms.gateway_ref)
    report = await bulk_sms.batch_report(world.ana, batch.id)
    assert report.counts == {"queued": 0, "sent": 1, "delivered": 1, "failed": 0}
    # A late "sent" report does not undo the delivery.
    await sms_ops.apply_status("sent", clock=clock, sms_id=eva_sms.id)
    assert (await Sms.get(id=eva_sms.id)).status == "delivered"


async def test_an_sms_task_sends_at_its_due_time_once(world, clock, db, hub):
    client = await create_client(world.luis, ClientInput(name="Eva", phones=["+34600000001"]))
    task = await Task.create(
        title="Recordatorio",
        kind="sms",
        sms_text="Su cita es mañana",
        due_at=clock.now() + timedelta(minutes=5),
        author_id=world.luis.id,
        client_id=client.id,
    )
    done: list[TaskDone] = []

    async def on_done(event: TaskDone) -> None:
        done.append(event)

    hub.subscribe("test-task-done", on_done, TaskDone)  # what the task.done webhook hears
    assert await sms_ops.send_due_sms_tasks(clock, POLICY, hub=hub) == 0
    clock.advance(minutes=5)
    assert await sms_ops.send_due_sms_tasks(clock, POLICY, hub=hub) == 1
    assert await sms_ops.send_due_sms_tasks(clock, POLICY, hub=hub) == 0
    await hub.drain()
    assert [event.task_id for event in done] == [task.id]
    [sms] = await Sms.all()
    assert (sms.number, sms.text, sms.client_id) == ("+34600000001", "Su cita es mañana", client.id)
    assert (await Task.get(id=task.id)).is_done
    assert (await outbox.counts(sms_ops.KIND))[outbox.PENDING] == 1


# -- chan_dongle over AMI on the simulator ---------------------------------------------


@pytest.fixture
async def dongle_line(sim, world):
    clock = SystemClock()
    events = DongleEvents(clock)
    rec = Recorder()
    link = AmiLink(
        ami_settings(sim),
        fan_out(rec.on_event, events.on_event),
        rec.on_resync,
        sleep=RecordingSleep(),
    )
    await link.start()
    await link.wait_ready(10)
    worker = OutboxWorker(clock=clock, poll_interval=0.05, base_backoff=0.05)
    worker.register(sms_ops.KIND, SmsSender(DongleGateway(link, "dongle0"), clock))
    await worker.start()
    yield link
    await worker.stop()
    await link.stop()


async def test_sms_through_chan_dongle_is_sent_then_delivered(sim, world, dongle_line):
    clock = SystemClock()
    sim.dongle.script("+34600000009", "notsent")
    ok = await sms_ops.send_sms(world.luis, "+34600000001", "Hola", clock=clock, policy=POLICY)
    bad = await sms_ops.send_sms(world.luis, "+34600000009", "Hola", clock=clock, policy=POLICY)
    await eventually_db(lambda: Sms.filter(id=ok.id, status="delivered").exists())
    await eventually_db(lambda: Sms.filter(id=bad.id, status="failed").exists())
    [first, second] = sim.received("DongleSendSMS")
    assert (first["Device"], first["Number"], first["Message"]) == (
        "dongle0",
        "+34600000001",
        "Hola",
    )
    assert (await Sms.get(id=ok.id)).gateway_ref == sim.dongle.sent[0]["ID"]


async def test_an_inbound_sms_from_an_unknown_number_creates_a_lead(sim, world, dongle_line):
    eva = await create_client(world.luis, ClientInput(name="Eva", phones=["+34600000001"]))
    sim.dongle.receive("+34600000001", "Confirmo la cita")
    sim.dongle.receive("+34611222333", "Quiero información\nsobre precios")
    await eventually_db(_two_in)
    known = await Sms.get(direction="in", number="+34600000001")
    assert (known.client_id, known.text, known.status) == (eva.id, "Confirmo la cita", "received")
    unknown = await Sms.get(direction="in", number="+34611222333")
    lead = await Lead.get(id=unknown.lead_id)
    assert lead.source == "sms"
    assert unknown.text == "Quiero información\nsobre precios"
    assert await TimelineEntry.filter(lead_id=lead.id, kind="sms").exists()


async def _two_in() -> bool:
    return await Sms.filter(direction="in").count() == 2
