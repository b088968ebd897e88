"""Web form sources and their submissions (E3, N3) on the real database: admins only, origins
checked, a lead with the source tag and UTM values counted by the N3 report, a known phone or
email becoming a note, the honeypot, errors naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.contacts.clients import ClientInput, create_client
from models.core.errors import NotFound, PermissionDenied, ValidationFailed
from models.core.events import LeadCreated
from models.reporting.analytics import source_stats
from models.sales import form_leads
from models.sales.leads import LeadInput, create_lead
from models.schema.activity import Note
from models.schema.integrations import FormSource
from models.schema.leads import Lead

SITE = "https://www.acme.es"


@pytest.fixture
async def events(hub):
    seen: list[object] = []

    async def keep(event: object) -> None:
        seen.append(event)

    hub.subscribe("test-forms", keep, LeadCreated)
    return seen


@pytest.fixture
async def form(world):
    return await form_leads.create_form(
        world.ana,
        form_leads.FormInput(
            name="Contacto web",
            origins=f"{SITE}/\nhttp://localhost:8080",
            source_tag_id=world.did_tag.id,
            responsible_id=world.luis.id,
        ),
    )


async def test_an_admin_creates_a_form_with_an_unguessable_key_and_clean_origins(world, form):
    assert len(form.key) >= 32
    assert form.allowed_origins == [SITE, "http://localhost:8080"]
    other = await form_leads.create_form(world.ana, form_leads.FormInput(name="Otra"))
    assert other.key != form.key


async def test_an_agent_may_not_manage_forms(world, form):
    with pytest.raises(PermissionDenied):
        await form_leads.create_form(world.luis, form_leads.FormInput(name="Mía"))
    with pytest.raises(PermissionDenied):
        await form_leads.list_forms(world.luis)
    with pytest.raises(PermissionDenied):
        await form_leads.delete_form(world.luis, form.id)


@pytest.mark.parametrize(
    "origins",
    ["www.acme.es", "ftp://acme.es", "https://acme.es/contact", "https://acme.es:99999"],
)
async def test_an_origin_that_is_not_scheme_host_port_is_refused(world, origins):
    with pytest.raises(ValidationFailed) as err:
        await form_leads.create_form(world.ana, form_leads.FormInput(name="X", origins=origins))
    assert "origins" in err.value.fields


async def test_a_submission_makes_a_lead_with_the_tag_and_utm_counted_by_n3(
    world, form, clock, hub, events
):
    result = await form_leads.take_submission(
        form.key,
        {
            "name": "Rosa Díaz",
            "phone": "612 345 678",
            "email": "Rosa@Example.com",
            "message": "Quiero un presupuesto",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "invierno",
        },
        origin=SITE,
        clock=clock,
        hub=hub,
    )
    assert result.outcome == "lead"
    lead = await Lead.get(id=result.lead_id).prefetch_related("phones", "emails")
    assert (lead.name, lead.source, lead.source_tag_id) == (
        "Rosa Díaz",
        "web form",
        world.did_tag.id,
    )
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("google", "cpc", "invierno")
    assert lead.responsible_id == world.luis.id
    assert [p.e164 for p in lead.phones] == ["+34612345678"]
    assert [e.address for e in lead.emails] == ["rosa@example.com"]
    note = await Note.get(lead_id=lead.id)
    assert "Quiero un presupuesto" in note.text and "Contacto web" in note.text
    await hub.drain()
    assert [(e.lead_id, e.source) for e in events] == [(lead.id, "web form")]
    stats = await source_stats(
        world.ana, clock.now() - timedelta(days=1), clock.now() + timedelta(1)
    )
    assert stats["by_utm"] == [{"utm_source": "google", "utm_campaign": "invierno", "leads": 1}]
    assert ("Google Ads", {"leads": 1, "clients": 0, "deals": 0}) in stats["by_tag"]
    saved = await FormSource.get(id=form.id)
    assert saved.submissions == 1 and saved.last_submission_at is not None


async def test_a_known_phone_adds_a_note_to_the_client_instead_of_a_lead(world, form, clock, hub):
    client = await create_client(
        world.luis, ClientInput(name="Talleres Peña", phones=["612345678"])
    )
    leads_before = await Lead.all().count()
    result = await form_leads.take_submission(
        form.key,
        {"name": "José", "phone": "+34 612 34 56 78", "message": "Llamadme"},
        origin=None,
        clock=clock,
        hub=hub,
    )
    assert (result.outcome, result.client_id) == ("note", client.id)
    assert await Lead.all().count() == leads_before
    assert "Llamadme" in (await Note.get(client_id=client.id)).text


async def test_a_known_email_adds_a_note_to_the_open_lead(world, form, clock, hub):
    lead = await create_lead(world.marta, LeadInput(name="Eva", emails=["eva@example.com"]))
    result = await form_leads.take_submission(
        form.key,
        {"email": "EVA@example.com", "message": "Otra vez"},
        origin=SITE,
        clock=clock,
        hub=hub,
    )
    assert (result.outcome, result.lead_id) == ("note", lead.id)
    assert await Lead.all().count() == 1


async def test_the_honeypot_stores_nothing_even_with_bad_fields(world, form, clock, hub):
    result = await form_leads.take_submission(
        form.key, {"website": "http://spam", "email": "nope"}, origin=SITE, clock=clock, hub=hub
    )
    assert result.outcome == "ignored"
    assert await Lead.all().count() == 0 and await Note.all().count() == 0
    assert (await FormSource.get(id=form.id)).submissions == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "Sin contacto"}, "phone"),
        ({"phone": "abc"}, "phone"),
        ({"email": "no-es-un-correo"}, "email"),
        ({"email": "a@b.es", "name": "x" * 201}, "name"),
        ({"email": "a@b.es", "message": {"nested": 1}}, "message"),
        ({"email": "a@b.es", "utm_source": "u" * 101}, "utm_source"),
    ],
)
async def test_bad_fields_are_named(world, form, clock, hub, data, field):
    with pytest.raises(ValidationFailed) as err:
        await form_leads.take_submission(form.key, data, origin=SITE, clock=clock, hub=hub)
    assert field in err.value.fields
    assert await Lead.all().count() == 0


async def test_another_site_or_a_switched_off_form_is_refused(world, form, clock, hub):
    with pytest.raises(PermissionDenied):
        await form_leads.take_submission(
            form.key, {"email": "a@b.es"}, origin="https://evil.example", clock=clock, hub=hub
        )
    await form_leads.update_form(
        world.ana,
        form.id,
        form_leads.FormInput(name="Contacto web", origins=SITE),
        enabled=False,
    )
    with pytest.raises(NotFound):
        await form_leads.take_submission(
            form.key, {"email": "a@b.es"}, origin=SITE, clock=clock, hub=hub
        )
    assert await Lead.all().count() == 0
