"""Bulk email benchmark (issue 16, C8): 100 messages of one bulk send through the outbox.

Real database, `compose_bulk` (one EmailMessage, one outbox row and one timeline entry per
recipient), the outbox worker with the "mail_out" sender, and a local aiosmtpd server that asks
for a login like a provider would. Prints the time to queue the send, the time from the
worker's start until every message is marked sent (messages per second), and, for a ratio,
aiosmtplib alone sending the same 100 messages to the same server, one session each like the
sender. The Sent-folder APPEND is left out (server_saves_sent): it is the IMAP server's cost.

    python bench/mail_bulk.py [--recipients 100] [--backend postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
import warnings
from pathlib import Path

import aiosmtplib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import DEFAULT_PG, bench_company, private_database  # noqa: E402

from daemon.mail_send import build_message, register_mail_out  # noqa: E402
from daemon.outbox_worker import OutboxWorker  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.secret_box import SecretBox  # noqa: E402
from models.messaging import outbox  # noqa: E402
from models.messaging.mail_compose import KIND, BulkRecipient, compose_bulk  # noqa: E402
from models.people.users import create_user  # noqa: E402
from models.schema.activity import EmailMessage  # noqa: E402
from models.schema.clients import Client  # noqa: E402
from models.schema.mail import MailAccount  # noqa: E402

PASSWORD = "bench-app-password"
# aiosmtpd's own login hook warns on every session; the noise says nothing about our code.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated")


class Sink:
    """An SMTP server that accepts every login and every message, and counts them."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.count += 1
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        return AuthResult(success=True)


def start_sink() -> tuple[Sink, Controller, int]:
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=sink.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    return sink, controller, port


async def wait_until(condition, within: float = 120.0) -> None:
    end = time.perf_counter() + within
    while not await condition():
        if time.perf_counter() > end:
            raise SystemExit("timed out")
        await asyncio.sleep(0.01)


async def run(args: argparse.Namespace, url: str) -> None:
    await open_db(url)
    await bench_company()
    admin = await create_user("admin", "bench-pass-1", group_name="Admin", extension="100")
    await admin.fetch_related("group")
    clock = SystemClock()
    now = clock.now()
    await Client.bulk_create(
        [
            Client(name=f"Cliente {i}", name_key=f"cliente {i}", created_at=now)
            for i in range(args.recipients)
        ]
    )
    ids = list(await Client.all().order_by("id").values_list("id", flat=True))
    sink, controller, port = start_sink()
    box = SecretBox(b"3" * 43 + b"=")
    account = await MailAccount.create(
        owner_id=admin.id,
        address="ventas@bench.test",
        display_name="Ventas Bench",
        login="ventas@bench.test",
        password_encrypted=box.seal(PASSWORD),
        imap_host="127.0.0.1",
        imap_port=1,
        imap_security="none",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        server_saves_sent=True,
        signature="Ventas\nBench S.L.",
    )
    recipients = [BulkRecipient(f"c{i}@example.com", client_id=cid) for i, cid in enumerate(ids)]
    body = "Hola:\n\nestas son nuestras nuevas tarifas — ¡con descuento! 🎉\n" * 5

    started = time.perf_counter()
    ref = await compose_bulk(
        admin, account.id, recipients, "Novedades de diciembre", body, clock=clock
    )
    queued = time.perf_counter() - started

    worker = OutboxWorker(clock=clock, poll_interval=0.05, batch_size=500)
    register_mail_out(worker, box, clock, timeout=10)
    sending = time.perf_counter()
    await worker.start()

    async def all_sent() -> bool:
        return (await outbox.counts(KIND))[outbox.SENT] >= len(recipients)

    await wait_until(all_sent)
    through_outbox = time.perf_counter() - sending
    await worker.stop()
    sent = await EmailMessage.filter(bulk_ref=ref, status="sent").count()

    # The same messages straight from aiosmtplib: one session each, 16 at a time like the
    # worker's default concurrency.
    emails = await EmailMessage.filter(bulk_ref=ref).order_by("id")
    raw = [build_message(e, account, clock.now()).as_bytes() for e in emails]
    before = sink.count
    limit = asyncio.Semaphore(16)

    async def direct(data: bytes, to: str) -> None:
        async with limit:
            await aiosmtplib.send(
                data,
                sender=account.address,
                recipients=[to],
                hostname="127.0.0.1",
                port=port,
                username=account.login,
                password=PASSWORD,
                start_tls=False,
                use_tls=False,
            )

    direct_start = time.perf_counter()
    await asyncio.gather(*(direct(data, e.recipients) for data, e in zip(raw, emails, strict=True)))
    direct_time = time.perf_counter() - direct_start
    controller.stop()

    n = len(recipients)
    print(
        f"{n} recipients: queued in {queued:.2f} s ({n / queued:.0f}/s); through the outbox "
        f"in {through_outbox:.2f} s = {n / through_outbox:.0f} messages/s "
        f"({sent} marked sent, server got {before})"
    )
    print(
        f"  aiosmtplib alone: {direct_time:.2f} s = {n / direct_time:.0f} messages/s; "
        f"outbox / direct time ratio {through_outbox / direct_time:.1f}x"
    )
    await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--recipients", type=int, default=100)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    async with private_database(args.backend, args.pg_url, None) as url:
        await run(args, url)


if __name__ == "__main__":
    asyncio.run(main())
