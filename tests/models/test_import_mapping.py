"""Mapping suggestions from Spanish and English headers, custom fields as targets, the CLI spec."""

from __future__ import annotations

import pytest

from models.core.errors import ValidationFailed
from models.importing.mapping import check_mapping, parse_map_spec, suggest_mapping, targets

CLIENT_TARGETS = targets("clients", [("dni", "DNI / NIF"), ("birthday", "Fecha de nacimiento")])


def test_spanish_headers_and_custom_fields_are_suggested():
    headers = [
        "Nombre completo",
        "Teléfono 1",
        "Teléfono 2",
        "Móvil",
        "Correo electrónico",
        "Empresa",
        "Etiquetas",
        "DNI / NIF",
        "Fecha de nacimiento",
        "Observaciones",
    ]
    assert suggest_mapping(headers, CLIENT_TARGETS) == {
        "Nombre completo": "name",
        "Teléfono 1": "phones",
        "Teléfono 2": "phones",
        "Móvil": "phones",
        "Correo electrónico": "emails",
        "Empresa": "company_name",
        "Etiquetas": "tags",
        "DNI / NIF": "custom.dni",
        "Fecha de nacimiento": "custom.birthday",
        "Observaciones": "",
    }


def test_english_headers_and_lead_fields():
    headers = ["Full name", "Phone number", "E-mail", "Company", "utm_campaign", "Owner", "Name"]
    suggested = suggest_mapping(headers, targets("leads", []))
    assert suggested == {
        "Full name": "name",
        "Phone number": "phones",
        "E-mail": "emails",
        "Company": "company_name",
        "utm_campaign": "utm_campaign",
        "Owner": "responsible",
        "Name": "",
    }  # one column per single field


def test_the_command_line_spec_accepts_aliases_and_names_each_mistake():
    spec = parse_map_spec("Nombre=name, Teléfono=phone,Correo=email,Notas=ignore")
    assert spec == {"Nombre": "name", "Teléfono": "phones", "Correo": "emails", "Notas": ""}
    headers = ["Nombre", "Teléfono", "Correo", "Notas"]
    assert check_mapping(spec, headers, CLIENT_TARGETS) == {0: "name", 1: "phones", 2: "emails"}
    # case and accents do not matter, nor do 1-based column numbers
    assert check_mapping({"telefono": "phones", "1": "name"}, headers, CLIENT_TARGETS) == {
        1: "phones",
        0: "name",
    }
    with pytest.raises(ValidationFailed) as err:
        check_mapping({"Edad": "age", "Nombre": "shoe_size"}, headers, CLIENT_TARGETS)
    assert set(err.value.fields) == {"Edad", "Nombre"}
    with pytest.raises(ValidationFailed, match="mapped from more than one column"):
        check_mapping({"Nombre": "name", "Notas": "name"}, headers, CLIENT_TARGETS)
    with pytest.raises(ValidationFailed, match="at least one"):
        check_mapping({"Notas": "tags"}, headers, CLIENT_TARGETS)
    with pytest.raises(ValidationFailed, match="expected column=field"):
        parse_map_spec("Nombre")
