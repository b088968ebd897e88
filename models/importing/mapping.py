"""Which CRM field each file column goes to: the targets, suggestions from headers, the CLI spec."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from models.core.errors import ValidationFailed

KINDS = ("clients", "leads")
IGNORE = ""
CUSTOM_PREFIX = "custom."
# Targets a file may fill from several columns ("Teléfono 1", "Teléfono 2").
MULTI_COLUMN = frozenset({"phones", "emails", "tags"})


@dataclass(frozen=True)
class Target:
    """A CRM field a column can be mapped to."""

    key: str
    label: str


_COMMON = [
    Target("name", "Name"),
    Target("phones", "Phones"),
    Target("emails", "Emails"),
    Target("company_name", "Company"),
    Target("responsible", "Responsible user"),
]
_CLIENT_ONLY = [Target("status", "Status"), Target("type", "Type"), Target("tags", "Tags")]
_LEAD_ONLY = [
    Target("utm_source", "UTM source"),
    Target("utm_medium", "UTM medium"),
    Target("utm_campaign", "UTM campaign"),
    Target("utm_term", "UTM term"),
    Target("utm_content", "UTM content"),
]

# Header words (accents removed, lower-case) that suggest each target, Spanish and English.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "nombre",
        "nombre completo",
        "nombre y apellidos",
        "name",
        "full name",
        "fullname",
        "cliente",
        "client",
        "contacto",
        "contact",
        "customer",
        "lead",
        "nombre cliente",
    ),
    "phones": (
        "telefono",
        "telefonos",
        "tel",
        "tlf",
        "tfno",
        "movil",
        "moviles",
        "celular",
        "numero",
        "numeros",
        "numero de telefono",
        "fijo",
        "whatsapp",
        "phone",
        "phones",
        "phone number",
        "telephone",
        "mobile",
        "cell",
        "cellphone",
        "tel movil",
        "telefono movil",
    ),
    "emails": (
        "email",
        "emails",
        "e-mail",
        "e mail",
        "correo",
        "correo electronico",
        "mail",
        "email address",
        "direccion de correo",
    ),
    "company_name": (
        "empresa",
        "compania",
        "company",
        "company name",
        "organizacion",
        "organization",
        "razon social",
        "negocio",
        "business",
    ),
    "tags": ("etiquetas", "etiqueta", "tags", "tag", "labels", "label", "grupos"),
    "status": ("estado", "status", "estatus"),
    "type": ("tipo", "type", "tipo de cliente", "client type"),
    "responsible": (
        "responsable",
        "responsible",
        "owner",
        "propietario",
        "agente",
        "agent",
        "asignado",
        "assigned to",
        "comercial",
        "vendedor",
    ),
    "utm_source": ("utm_source", "utm source", "fuente", "source", "origen"),
    "utm_medium": ("utm_medium", "utm medium", "medio", "medium"),
    "utm_campaign": ("utm_campaign", "utm campaign", "campana", "campaign"),
    "utm_term": ("utm_term", "utm term"),
    "utm_content": ("utm_content", "utm content"),
}
# Aliases accepted on the command line (--map "Telefono=phone").
_ALIASES = {
    "phone": "phones",
    "telefono": "phones",
    "email": "emails",
    "company": "company_name",
    "empresa": "company_name",
    "tag": "tags",
    "owner": "responsible",
    "nombre": "name",
    "ignore": IGNORE,
    "skip": IGNORE,
    "-": IGNORE,
}
_NOT_WORD = re.compile(r"[^a-z0-9@_]+")


def header_key(text: str) -> str:
    """Lower-case, accents removed, punctuation and digits around words as single spaces."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _NOT_WORD.sub(" ", bare).strip()


def targets(kind: str, custom_fields: list[tuple[str, str]]) -> list[Target]:
    """The fields an import of `kind` can fill; `custom_fields` are (key, label) of that kind."""
    if kind not in KINDS:
        raise ValidationFailed({"kind": f"must be one of: {', '.join(KINDS)}"})
    base = _COMMON + (_CLIENT_ONLY if kind == "clients" else _LEAD_ONLY)
    return base + [Target(CUSTOM_PREFIX + key, label) for key, label in custom_fields]


def suggest_mapping(headers: list[str], available: list[Target]) -> dict[str, str]:
    """A target for each header that names one (exact words first, then a word inside)."""
    keys = {t.key for t in available}
    custom = {
        header_key(t.key[len(CUSTOM_PREFIX) :]): t.key
        for t in available
        if t.key.startswith(CUSTOM_PREFIX)
    }
    custom.update(
        {header_key(t.label): t.key for t in available if t.key.startswith(CUSTOM_PREFIX)}
    )
    used: set[str] = set()
    result: dict[str, str] = {}

    def free(target: str) -> bool:
        return target in keys and (target in MULTI_COLUMN or target not in used)

    def word_match(key: str) -> str | None:
        stripped = re.sub(r"\s*\d+$", "", key)  # "telefono 2" -> "telefono"
        for candidate in (key, stripped):
            if candidate in custom and free(custom[candidate]):
                return custom[candidate]
            for target, words in _SYNONYMS.items():
                if candidate in words and free(target):
                    return target
        return None

    pending: list[str] = []
    for header in headers:
        found = word_match(header_key(header))
        if found:
            result[header] = found
            used.add(found)
        else:
            pending.append(header)
    for header in pending:
        words = set(header_key(header).split())
        for target, synonyms in _SYNONYMS.items():
            if free(target) and any(s in words for s in synonyms if " " not in s):
                result[header] = target
                used.add(target)
                break
        else:
            result[header] = IGNORE
    return {h: result[h] for h in headers}


def parse_map_spec(spec: str) -> dict[str, str]:
    """'Nombre=name,Teléfono=phones' as {header: target} (targets checked by check_mapping)."""
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        column, sep, target = part.rpartition("=")
        if not sep or not column.strip():
            raise ValidationFailed({"map": f"expected column=field, got {part.strip()!r}"})
        target = target.strip()
        mapping[column.strip()] = _ALIASES.get(target.lower(), target)
    return mapping


def check_mapping(
    mapping: dict[str, str], headers: list[str], available: list[Target]
) -> dict[int, str]:
    """The mapping as {column index: target}; ValidationFailed naming each bad entry.

    Columns are matched by exact header, else case- and accent-insensitively, else as a
    1-based column number.
    """
    keys = {t.key for t in available}
    by_key = {header_key(h): i for i, h in enumerate(headers)}
    errors: dict[str, str] = {}
    result: dict[int, str] = {}
    for column, target in mapping.items():
        if target and target not in keys:
            errors[column] = f"unknown field {target!r}; fields: {', '.join(sorted(keys))}"
            continue
        if column in headers:
            index = headers.index(column)
        elif header_key(column) in by_key:
            index = by_key[header_key(column)]
        elif column.isdigit() and 1 <= int(column) <= len(headers):
            index = int(column) - 1
        else:
            errors[column] = f"no such column; columns: {', '.join(headers)}"
            if len(headers) == 1 and any(sign in headers[0] for sign in ",;\t|"):
                errors[column] += " (one column only: is the delimiter right?)"
            continue
        if target:
            result[index] = target
    if not errors:
        repeated = [
            t
            for t in set(result.values())
            if t not in MULTI_COLUMN and list(result.values()).count(t) > 1
        ]
        for target in repeated:
            errors[target] = "mapped from more than one column"
        if not set(result.values()) & {"name", "phones", "emails", "company_name"}:
            errors["map"] = "map at least one of the columns to name, phones, emails or company"
    if errors:
        raise ValidationFailed(errors)
    return result
