"""The IMAP client the sync (and the probe and the sender) use, against the test Dovecot: the
three security modes, each failure named in plain words with the server's own, the sent folder
found, messages fetched without being marked as read, and IDLE."""

from __future__ import annotations

import asyncio

import pytest

from daemon.mail_imap import MailServerError, open_imap
from daemon.mail_imap_text import decode_folder, encode_folder, parse_fetch, parse_list, uid_set
from models.messaging.mail_accounts import ServerEndpoint
from tests.daemon.mail_sync_world import message
from tests.smtp_server import free_port


@pytest.fixture(scope="module")
def mailbox(dovecot):
    login, password = dovecot.new_user("imap")
    dovecot.deliver(login, message("Primero"))
    dovecot.deliver(login, message("Segundo"))
    return login, password


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
async def test_each_security_mode_logs_in_and_reads(dovecot, mailbox, security):
    login, password = mailbox
    port = dovecot.tls_port if security == "tls" else dovecot.port
    conn = await open_imap(
        ServerEndpoint(dovecot.host, port, security),
        login,
        password,
        timeout=5,
        ssl_context=dovecot.ssl_context(),
    )
    try:
        assert conn.has_idle
        assert await conn.find_sent_folder() == "Sent"
        status = await conn.select("INBOX")
        assert status.exists == 2 and status.uidnext == 3 and status.uidvalidity > 0
        assert await conn.uid_search("UID", "2:*") == [2]
        assert await conn.fetch_sizes([1, 2]) == {
            1: len(message("Primero")),
            2: len(message("Segundo")),
        }
        fetched = await conn.fetch_messages([1, 2])
        assert [uid for uid, _ in fetched] == [1, 2]
        assert b"Subject: Segundo" in fetched[1][1]
    finally:
        await conn.logout()
    assert dovecot.doveadm("search", "-u", login, "mailbox", "INBOX", "SEEN").strip() == ""


async def failure(endpoint, password="x", **options) -> MailServerError:
    with pytest.raises(MailServerError) as caught:
        await open_imap(endpoint, "someone@mail.test", password, timeout=2, **options)
    return caught.value


async def test_failures_are_named_in_plain_words(dovecot, mailbox):
    login, _password = mailbox
    here = dovecot.host
    wrong = await failure(ServerEndpoint(here, dovecot.port, "none"), password="Bad-Pa55")
    assert wrong.kind == "auth" and "Authentication failed" in wrong.server_text
    assert "Bad-Pa55" not in str(wrong)
    assert str(wrong).startswith("the server refused the login")

    untrusted = await failure(ServerEndpoint(here, dovecot.tls_port, "tls"))
    assert untrusted.kind == "tls" and "self-signed" in untrusted.server_text
    untrusted = await failure(ServerEndpoint(here, dovecot.port, "starttls"))
    assert untrusted.kind == "tls" and "self-signed" in untrusted.server_text
    plain_port = await failure(
        ServerEndpoint(here, dovecot.port, "tls"), ssl_context=dovecot.ssl_context()
    )
    assert plain_port.kind == "tls"

    refused = await failure(ServerEndpoint(here, free_port(), "none"))
    assert refused.kind == "unreachable" and "refused" in refused.server_text
    nowhere = await failure(ServerEndpoint("imap.nonexistent.invalid", 993, "tls"))
    assert nowhere.kind == "unreachable"
    silent = await failure(ServerEndpoint(here, dovecot.tls_port, "none"))  # TLS port, no TLS
    assert silent.kind == "timeout"


async def test_idle_reports_new_mail_and_gives_the_session_back(dovecot):
    login, password = dovecot.new_user("idle")
    conn = await open_imap(
        ServerEndpoint(dovecot.host, dovecot.port, "none"), login, password, timeout=5
    )
    try:
        await conn.select("INBOX")
        accepted = asyncio.Event()
        waiting = asyncio.create_task(conn.wait_for_news(60, on_idle=accepted.set))
        async with asyncio.timeout(10):
            await accepted.wait()
            dovecot.deliver(login, message("Nuevo"))
            assert await waiting is True
        assert (await conn.select("INBOX")).exists == 1  # the session works after DONE
        assert await conn.wait_for_news(0.2) is False  # nothing new: back when the time is up
    finally:
        await conn.logout()


async def test_append_files_a_message_in_a_folder_by_its_name(dovecot):
    login, password = dovecot.new_user("append")
    dovecot.doveadm("mailbox", "create", "-u", login, "Отправленные")
    conn = await open_imap(
        ServerEndpoint(dovecot.host, dovecot.port, "none"), login, password, timeout=5
    )
    try:
        names = [name for name, _flags in await conn.list_folders()]
        assert "Отправленные" in names
        await conn.append("Отправленные", message("Copia enviada"))
        assert (await conn.select("Отправленные")).exists == 1
        seen = dovecot.doveadm("search", "-u", login, "mailbox", "Отправленные", "SEEN")
        assert seen.strip() != ""  # filed as read, like a client's own sent mail
    finally:
        await conn.logout()


def test_folder_names_travel_in_modified_utf7():
    assert encode_folder("Отправленные") == "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"
    assert encode_folder("Correo & más") == "Correo &- m&AOE-s"
    assert decode_folder("Correo &- m&AOE-s") == "Correo & más"
    assert decode_folder("broken &???-") == "broken &???-"


def test_list_and_fetch_answers_are_read_whatever_their_order():
    folders = parse_list(
        [
            b'(\\HasNoChildren \\Sent) "/" "Sent Items"',
            b'(\\Noselect) "/" {6}',
            bytearray(b"[Gmail]"),
            b"(\\HasNoChildren) NIL INBOX",
            b"List completed.",
        ]
    )
    assert folders == [
        ("Sent Items", frozenset({"\\HasNoChildren", "\\Sent"})),
        ("[Gmail]", frozenset({"\\Noselect"})),
        ("INBOX", frozenset({"\\HasNoChildren"})),
    ]
    items = parse_fetch(
        [
            b"1 FETCH (BODY[] {5}",
            bytearray(b"hello"),
            b" UID 7)",
            b"2 FETCH (UID 9 RFC822.SIZE 120)",
            b"3 FETCH (FLAGS (\\Seen))",
            b"Fetch completed.",
        ]
    )
    assert [(i.uid, i.size, i.body) for i in items] == [(7, -1, b"hello"), (9, 120, b"")]
    assert uid_set([5, 1, 2, 3, 9, 10]) == "1:3,5,9:10"
