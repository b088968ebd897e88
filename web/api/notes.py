"""/api/v1/clients/{id}/notes and /api/v1/leads/{id}/notes: a record's notes (newest first)
and a new one, through models/contacts/notes.py after the panel's own visibility check."""

from __future__ import annotations

from aiohttp import web

from models.contacts import clients as client_ops
from models.contacts import notes as note_ops
from models.sales import leads as lead_ops
from models.schema.activity import Note
from web.api.activity_schemas import NoteIn, NoteList, NoteOut, NoteQuery
from web.api.core import Route, answer, api_user, path_id, read_body, read_query
from web.keys import CLOCK


def _out(note: Note) -> NoteOut:
    return NoteOut(
        id=note.id,
        text=note.text,
        author_id=note.author_id,
        client_id=note.client_id,
        lead_id=note.lead_id,
        created_at=note.created_at,
    )


async def client_notes(request: web.Request) -> web.Response:
    query = read_query(request, NoteQuery)
    client = await client_ops.get_client(api_user(request), path_id(request))
    notes = await note_ops.notes_of(client_id=client.id, limit=query.limit)
    return answer(NoteList(items=[_out(n) for n in notes]))


async def lead_notes(request: web.Request) -> web.Response:
    query = read_query(request, NoteQuery)
    lead = await lead_ops.get_lead(api_user(request), path_id(request))
    notes = await note_ops.notes_of(lead_id=lead.id, limit=query.limit)
    return answer(NoteList(items=[_out(n) for n in notes]))


async def _add(request: web.Request, **target: int) -> web.Response:
    body = await read_body(request, NoteIn)
    note = await note_ops.add_note(api_user(request), body.text, clock=request.app[CLOCK], **target)
    return answer(_out(note), status=201)


async def add_client_note(request: web.Request) -> web.Response:
    return await _add(request, client_id=path_id(request))


async def add_lead_note(request: web.Request) -> web.Response:
    return await _add(request, lead_id=path_id(request))


ROUTES = [
    Route(
        "GET",
        "/clients/{id}/notes",
        client_notes,
        "A client's notes",
        query=NoteQuery,
        answer=NoteList,
    ),
    Route(
        "POST",
        "/clients/{id}/notes",
        add_client_note,
        "Add a note to a client",
        body=NoteIn,
        answer=NoteOut,
        status=201,
        write=True,
    ),
    Route(
        "GET", "/leads/{id}/notes", lead_notes, "A lead's notes", query=NoteQuery, answer=NoteList
    ),
    Route(
        "POST",
        "/leads/{id}/notes",
        add_lead_note,
        "Add a note to a lead",
        body=NoteIn,
        answer=NoteOut,
        status=201,
        write=True,
    ),
]
