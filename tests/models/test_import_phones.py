"""The import's fast phone reader gives exactly what models.contacts.phones.parse_phone gives."""

from __future__ import annotations

import random

import pytest

from models.contacts.phones import parse_phone
from models.importing.phonefast import fast_parse_phone

REGIONS = ["ES", "GB", "US", "MX", "AR", "DE", "FR", "IT", "BR", "IN", "RU", "AU", "CH", "PT", "CO"]
PREFIXES = ["6", "7", "9", "0", "1", "34", "44", "52", "54", "39", "0034", "011", "00", "0", "+"]


def _random_number(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 16)))
    if rng.random() < 0.4:
        body = rng.choice(PREFIXES) + body
    if rng.random() < 0.5 and len(body) > 3:
        groups, i = [], 0
        while i < len(body):
            size = rng.randint(1, 4)
            groups.append(body[i : i + size])
            i += size
        body = rng.choice([" ", "-", "."]).join(groups)
    return rng.choice(["", "", "+", "00"]) + body


def test_same_result_as_parse_phone_on_random_numbers_of_many_regions():
    rng = random.Random(20261129)
    for _ in range(20_000):
        text, region = _random_number(rng), rng.choice(REGIONS)
        assert fast_parse_phone(text, region) == parse_phone(text, region), (text, region)


@pytest.mark.parametrize(
    "text",
    [
        "+34 911 234 567",
        "911234567",
        "0034911234567",
        "+44 (0)20 7946 0958",
        "ext. 12",
        "12",
        "+999 123",
        "tel: 600-000-000 x12",
        "６００ ０００ ０００",
        "+1 800 FLOWERS",
        "  612.345.678  ",
    ],
)
def test_same_result_on_shapes_people_type(text):
    for region in ("ES", "US", "GB"):
        assert fast_parse_phone(text, region) == parse_phone(text, region)


def test_same_result_for_every_region_and_country_code():
    # Numbers as lists hold them (national, international, with "00"), for every region:
    # regions with a national prefix ("0" in GB) and regions sharing a country code with
    # another one (JE, IM on +44; BQ on +599; TA on +290) included.
    import phonenumbers.phonenumberutil as pnu

    rng = random.Random(5)
    regions = sorted(pnu.SUPPORTED_REGIONS)
    for _ in range(60_000):
        region = rng.choice(regions)
        code = str(pnu.country_code_for_region(rng.choice(regions)))
        body = "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 13)))
        text = rng.choice([f"+{code} {body}", body, f"00{code}{body}", f"{body[:3]}-{body[3:]}"])
        assert fast_parse_phone(text, region) == parse_phone(text, region), (text, region)
