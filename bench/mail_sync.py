"""Mail sync benchmark (issue 16): a 10,000-message mailbox in a real Dovecot.

Fills a Dovecot user's INBOX (Maildir files written directly) with N messages from a pool of
senders (a share of them clients, the rest unknown: leads), then prints
- the limit: aioimaplib alone fetching the same messages in the same batches (UID FETCH
  BODY.PEEK[], nothing stored), messages per second;
- the first sync (`sync_account_once`: fetch, parse, match, leads, timeline), messages per
  second, the ratio to the limit, and the peak memory it added (max RSS growth; with
  --tracemalloc also Python's own peak, slower);
- a sync with nothing new: wall time and IMAP commands (target: under 1 s, a handful).

    python bench/mail_sync.py [--messages 10000] [--backend sqlite|postgres] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import DEFAULT_PG, bench_company, private_database  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from daemon.mail_imap import open_imap  # noqa: E402
from daemon.mail_sync import sync_account_once  # noqa: E402
from daemon.mail_sync.folder import BATCH_MESSAGES  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.secret_box import SecretBox  # noqa: E402
from models.core.settings import MailSettings, Settings  # noqa: E402
from models.messaging.mail_accounts import ServerEndpoint  # noqa: E402
from models.people.users import create_user  # noqa: E402
from models.schema.activity import EmailMessage  # noqa: E402
from models.schema.clients import Client, Email  # noqa: E402
from models.schema.leads import Lead  # noqa: E402
from models.schema.mail import MailAccount  # noqa: E402
from tests.dovecot import start_dovecot  # noqa: E402

SENDERS = 500
CLIENT_SENDERS = 150
PARAGRAPH = (
    "Buenos días, les escribo para confirmar el pedido de la semana pasada y preguntar por "
    "el plazo de entrega. ¿Podrían llamarme mañana por la mañana? Gracias de antemano.\r\n"
)


def build_message(index: int, owner: str, now: datetime) -> bytes:
    sender = index % SENDERS
    sent = now - timedelta(minutes=index)
    body = PARAGRAPH * (3 + index % 12)  # 0.5 to 2.5 KB of text
    head = (
        f"From: Remitente {sender} <sender{sender}@cliente{sender % 40}.test>\r\n"
        f"To: {owner}\r\nSubject: =?utf-8?q?Pedido_n=C2=BA_{index}_-_confirmaci=C3=B3n?=\r\n"
        f"Date: {format_datetime(sent)}\r\nMessage-ID: <m{index}@cliente.test>\r\n"
        "MIME-Version: 1.0\r\n"
    )
    if index % 3:
        return (
            head + "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + body
        ).encode()
    html = "<p>" + body.replace("\r\n", "</p><p>") + "</p>"
    return (
        head + 'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body
        + "\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + html + "\r\n--b1--\r\n"
    ).encode()


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def raw_fetch_rate(dovecot, login: str, password: str, count: int) -> float:
    """aioimaplib through our wrapper, no storing: the same batches as the sync."""
    endpoint = ServerEndpoint(dovecot.host, dovecot.port, "none")
    conn = await open_imap(endpoint, login, password, timeout=60)
    await conn.select("INBOX")
    uids = await conn.uid_search("ALL")
    started = time.perf_counter()
    fetched = 0
    for start in range(0, len(uids), BATCH_MESSAGES):
        fetched += len(await conn.fetch_messages(uids[start : start + BATCH_MESSAGES]))
    elapsed = time.perf_counter() - started
    await conn.logout()
    assert fetched == count, (fetched, count)
    return fetched / elapsed


async def run(args: argparse.Namespace, url: str, dovecot, data_dir: Path) -> None:
    await open_db(url)
    await bench_company()
    owner = await create_user("luis", "bench-pass-1", extension="101")
    now = datetime.now(UTC)
    for sender in range(CLIENT_SENDERS):  # these senders are clients already
        client = await Client.create(
            name=f"Cliente {sender}", name_key=f"cliente {sender}", created_at=now
        )
        await Email.create(address=f"sender{sender}@cliente{sender % 40}.test", client=client)

    login, password = dovecot.new_user("luis")
    box = SecretBox(Fernet.generate_key())
    account = await MailAccount.create(
        owner_id=owner.id,
        address=login,
        login=login,
        password_encrypted=box.seal(password),
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security="none",
        smtp_host=dovecot.host,
        smtp_port=25,
        first_sync_days=30,
    )
    started = time.perf_counter()
    for start in range(0, args.messages, 1000):
        chunk = [
            build_message(i, login, now) for i in range(start, min(args.messages, start + 1000))
        ]
        dovecot.fill(login, chunk, received_at=now - timedelta(days=1))
    dovecot.doveadm("mailbox", "status", "-u", login, "messages", "INBOX")  # Dovecot indexes
    print(f"{args.messages} messages in Dovecot's Maildir in {time.perf_counter() - started:.1f} s")

    limit = await raw_fetch_rate(dovecot, login, password, args.messages)
    print(
        f"limit: aioimaplib fetching them, {BATCH_MESSAGES} per UID FETCH: {limit:.0f} messages/s"
    )

    settings = Settings(data_dir=data_dir, mail=MailSettings(timeout_seconds=60))
    options = dict(
        settings=settings, box=box, clock=SystemClock(), hub=None, files_dir=data_dir / "mail"
    )
    rss_before = max_rss_mb()
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    report = await sync_account_once(account.id, **options)
    elapsed = time.perf_counter() - started
    traced = ""
    if args.tracemalloc:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        traced = f", Python peak {peak / 2**20:.1f} MB (tracemalloc)"
    rate = report.fetched / elapsed
    stored = await EmailMessage.filter(account_id=account.id).count()
    print(
        f"first sync: {report.fetched} fetched, {stored} stored, {report.matched} matched, "
        f"{report.leads_created} leads in {elapsed:.1f} s = {rate:.0f} messages/s "
        f"(ratio to the limit {limit / rate:.1f}x); max RSS +{max_rss_mb() - rss_before:.1f} MB "
        f"(now {max_rss_mb():.0f} MB){traced}; {report.imap_commands} IMAP commands"
    )
    leads = await Lead.all().count()
    assert stored == args.messages, (stored, args.messages)
    assert leads == min(SENDERS, args.messages) - CLIENT_SENDERS, leads

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        quiet = await sync_account_once(account.id, **options)
        timings.append(time.perf_counter() - started)
        assert quiet.fetched == 0
    timings.sort()
    print(
        f"nothing new: median {timings[2] * 1000:.0f} ms, worst {timings[-1] * 1000:.0f} ms "
        f"over 5 syncs; {quiet.imap_commands} IMAP commands "
        f"(target: under 1 s and a handful)"
    )
    dovecot.deliver(login, build_message(args.messages + 1, login, now))
    started = time.perf_counter()
    one = await sync_account_once(account.id, **options)
    print(
        f"one new message: {(time.perf_counter() - started) * 1000:.0f} ms, "
        f"{one.imap_commands} IMAP commands"
    )
    await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--tracemalloc", action="store_true", help="also Python's peak (slower)")
    args = parser.parse_args()
    dovecot = start_dovecot()
    try:
        with tempfile.TemporaryDirectory(prefix="centralita_bench_mail_") as data_dir:
            async with private_database(args.backend, args.pg_url, None) as url:
                await run(args, url, dovecot, Path(data_dir))
    finally:
        dovecot.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
