"""Reading raw messages as mail clients send them (models/messaging/mime_read.py)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from models.messaging.mime_read import BrokenMessage, parse_message

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


# Thunderbird-like: Spanish subject and name in RFC 2047 (Q and B), multipart/alternative.
ALTERNATIVE = crlf(
    """Message-ID: <4f2a1c9e-1@mail.ejemplo.es>
Date: Tue, 24 Nov 2026 18:05:12 +0100
From: =?UTF-8?Q?Jos=C3=A9_Mar=C3=ADa_Pe=C3=B1a?= <Jose.Pena@Ejemplo.ES>
To: Ventas <ventas@acme.test>, "Ana" <ana@acme.test>
Cc: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan@example.ru>
Subject: =?UTF-8?Q?Presupuesto_para_la_instalaci=C3=B3n_=E2=80=94_a=C3=B1o_2027?=
In-Reply-To: <parent-1@acme.test>
References: <root-0@acme.test>
 <parent-1@acme.test>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="------------alt01"

This is a multi-part message in MIME format.
--------------alt01
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Buenas tardes,

=C2=BFPodr=C3=ADan enviarme el presupuesto?
--------------alt01
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

<html><body><p>Buenas tardes,</p><p>=C2=BFPodr=C3=ADan enviarme el =
presupuesto?</p></body></html>
--------------alt01--
"""
)


def test_encoded_headers_alternative_bodies_and_threading():
    mail = parse_message(ALTERNATIVE)
    assert mail.message_id == "<4f2a1c9e-1@mail.ejemplo.es>"
    assert mail.subject == "Presupuesto para la instalación — año 2027"
    assert mail.sender == ("José María Peña", "jose.pena@ejemplo.es")
    assert mail.to == [("Ventas", "ventas@acme.test"), ("Ana", "ana@acme.test")]
    assert mail.cc == [("Иван Петров", "ivan@example.ru")]
    assert mail.date == datetime(2026, 11, 24, 17, 5, 12, tzinfo=UTC)
    assert mail.in_reply_to == "<parent-1@acme.test>"
    assert mail.references == ["<root-0@acme.test>", "<parent-1@acme.test>"]
    assert mail.text == "Buenas tardes,\n\n¿Podrían enviarme el presupuesto?"
    assert "<p>¿Podrían enviarme el presupuesto?</p>" in mail.html
    assert mail.snippet == "Buenas tardes, ¿Podrían enviarme el presupuesto?"
    assert mail.attachments == []


# Apple Mail-like: emoji subject, related HTML with an inline image, a PDF with an RFC 2231 name.
MIXED = (
    crlf(
        """Message-Id: <B7C1@icloud.test>
Date: Wed, 25 Nov 2026 09:00:00 -0500
From: =?utf-8?B?8J+YgCBMYXVyYQ==?= <laura@icloud.test>
To: ventas@acme.test
Subject: =?utf-8?B?8J+OiSDCoUZlbGljaWRhZGVzIQ==?=
Mime-Version: 1.0 (Mac OS X Mail 16.0)
Content-Type: multipart/mixed; boundary="Apple-Mail-M1"

--Apple-Mail-M1
Content-Type: multipart/related; type="text/html"; boundary="Apple-Mail-R1"

--Apple-Mail-R1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<html><head><style>p{color:red}</style></head><body><p>Mira el logo:</p>"""
        """<img src="cid:logo-123@icloud.test"></body></html>
--Apple-Mail-R1
Content-Type: image/png; name=logo.png
Content-Disposition: inline; filename=logo.png
Content-Id: <logo-123@icloud.test>
Content-Transfer-Encoding: base64

"""
    )
    + base64.encodebytes(PNG).replace(b"\n", b"\r\n")
    + crlf(
        """
--Apple-Mail-R1--

--Apple-Mail-M1
Content-Type: application/pdf;
 name*=utf-8''Factura%20n%C2%BA%2012%20%E2%80%94%20Pe%C3%B1a.pdf
Content-Disposition: attachment;
 filename*=utf-8''Factura%20n%C2%BA%2012%20%E2%80%94%20Pe%C3%B1a.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcOkw7zDtsOfCg==

--Apple-Mail-M1--
"""
    )
)


def test_inline_image_and_attachment_with_an_rfc2231_name():
    mail = parse_message(MIXED)
    assert mail.subject == "🎉 ¡Felicidades!"
    assert mail.sender == ("😀 Laura", "laura@icloud.test")
    assert mail.text == ""
    # No text part: the snippet comes from the HTML, without its style sheet or tags.
    assert mail.snippet == "Mira el logo:"
    logo, invoice = mail.attachments
    assert (logo.filename, logo.content_type, logo.content_id, logo.inline) == (
        "logo.png",
        "image/png",
        "logo-123@icloud.test",
        True,
    )
    assert logo.data == PNG
    assert invoice.filename == "Factura nº 12 — Peña.pdf"
    assert invoice.content_type == "application/pdf"
    assert invoice.inline is False
    assert invoice.data == b"%PDF-1.4\n%\xc3\xa4\xc3\xbc\xc3\xb6\xc3\x9f\n"


def test_raw_eight_bit_headers_in_utf8_and_in_latin1():
    utf8 = "From: Íñigo Azúa <inigo@example.es>\r\nSubject: Reunión mañana\r\n\r\nHola\r\n"
    mail = parse_message(utf8.encode("utf-8"))
    assert mail.subject == "Reunión mañana"
    assert mail.sender == ("Íñigo Azúa", "inigo@example.es")
    latin1 = "From: Begoña <bego@example.es>\r\nSubject: Factura de año nuevo\r\n\r\nHola\r\n"
    mail = parse_message(latin1.encode("latin-1"))
    assert mail.subject == "Factura de año nuevo"
    assert mail.sender == ("Begoña", "bego@example.es")


def test_charsets_that_lie_or_do_not_exist_still_read():
    # Declared us-ascii, really UTF-8 (an old web form); then a charset nobody knows.
    lying = (
        b"From: form@web.test\r\nSubject: Contact\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "Quisiera información sobre el artículo".encode()
    )
    assert parse_message(lying).text == "Quisiera información sobre el artículo"
    unknown = (
        b"From: a@b.test\r\nSubject: x\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "Año".encode("latin-1")
    )
    assert parse_message(unknown).text == "Año"
    koi8 = (
        b"From: a@b.test\r\nSubject: x\r\nContent-Type: text/plain; charset=koi8-r\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "Привет".encode("koi8-r")
    )
    assert parse_message(koi8).text == "Привет"


def test_missing_message_id_is_made_from_the_bytes_and_bad_date_is_none():
    raw = crlf("From: a@b.test\nSubject: no id\nDate: yesterday at noon\n\nbody\n")
    mail = parse_message(raw)
    assert mail.date is None
    assert mail.message_id.startswith("<") and mail.message_id.endswith("@centralita>")
    assert parse_message(raw).message_id == mail.message_id
    assert parse_message(raw + b"more").message_id != mail.message_id


def test_long_text_snippet_is_cut_and_whitespace_collapsed():
    raw = crlf("From: a@b.test\nSubject: long\n\n" + "palabra   \n" * 100)
    snippet = parse_message(raw).snippet
    assert len(snippet) == 200
    assert snippet.startswith("palabra palabra palabra")
    assert snippet.endswith("…")


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 binary garbage without headers"])
def test_what_is_no_message_at_all_is_broken(raw):
    with pytest.raises(BrokenMessage):
        parse_message(raw)


def test_a_multipart_without_its_boundary_is_read_without_bodies():
    raw = crlf(
        "From: a@b.test\nSubject: cut\nContent-Type: multipart/mixed; boundary=zz\n\n"
        "no boundary ever comes\n"
    )
    mail = parse_message(raw)
    assert mail.subject == "cut"
    assert mail.attachments == []


def test_nul_characters_are_dropped_from_what_is_stored():
    raw = (
        b"From: =?utf-8?q?Ana=00?= <a@b.test>\r\nSubject: Hola\x00 mundo\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nl\x00inea\r\n"
    )
    mail = parse_message(raw)
    assert (mail.subject, mail.sender, mail.text) == ("Hola mundo", ("Ana", "a@b.test"), "linea\n")
