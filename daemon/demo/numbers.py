"""Phone numbers that are valid by construction, unique per phone id, already in E.164.

Running phonenumbers over a million and a half numbers would cost minutes, so each
number is built from a numbering block known to be valid (checked against
`models.contacts.phones.parse_phone` in the tests) and formatted directly.

Uniqueness without memory: inside a block of `space` numbers, the phone's database id
goes through an affine permutation ``(id * A + B) mod space``. Two phones in the same
block get the same number only if their ids differ by a multiple of `space`, and every
block holds at least ten million numbers, so ids below that never collide, even across
several runs of demo-data on the same database (ids keep growing). The permutation does
not depend on the seed for the same reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from math import gcd

from models.contacts.phones import digits

# Knuth's multiplicative constant: odd, prime, so coprime with every block size below.
_A = 2_654_435_761
_B = 1_234_567
MAX_PHONE_ID = 10_000_000


@dataclass(frozen=True)
class Block:
    """Numbers `prefix + k digits` for each prefix, in one country."""

    country: str  # ISO region
    cc: str  # calling code without "+"
    prefixes: tuple[str, ...]
    width: int  # digits after the prefix
    kind: str  # mobile|landline

    @property
    def space(self) -> int:
        return len(self.prefixes) * 10**self.width

    def national(self, phone_id: int) -> str:
        value = (phone_id * _A + _B) % self.space
        prefix, rest = divmod(value, 10**self.width)
        return f"{self.prefixes[prefix]}{rest:0{self.width}d}"


def _span(start: str, end: str) -> tuple[str, ...]:
    width = len(start)
    return tuple(f"{n:0{width}d}" for n in range(int(start), int(end) + 1))


BLOCKS: dict[tuple[str, str], Block] = {
    ("ES", "mobile"): Block("ES", "34", _span("60", "69") + _span("71", "74"), 7, "mobile"),
    ("ES", "landline"): Block(
        "ES",
        "34",
        _span("910", "919") + _span("930", "939") + _span("950", "968") + _span("981", "988"),
        6,
        "landline",
    ),
    ("GB", "mobile"): Block("GB", "44", ("74", "75", "78"), 8, "mobile"),
    ("GB", "landline"): Block("GB", "44", ("207", "208"), 7, "landline"),
    ("FR", "mobile"): Block(
        "FR", "33", ("60", "61", "62", "64", "65") + _span("73", "78"), 7, "mobile"
    ),
    ("FR", "landline"): Block("FR", "33", ("1", "3"), 8, "landline"),
    ("DE", "mobile"): Block("DE", "49", ("151", "152", "157", "159"), 8, "mobile"),
    ("DE", "landline"): Block("DE", "49", ("30", "40", "89"), 8, "landline"),
    ("US", "mobile"): Block(
        "US",
        "1",
        tuple(
            f"{area}{d}" for area in ("212", "213", "305", "312", "415", "617") for d in "2346789"
        ),
        6,
        "mobile",
    ),
    ("MX", "mobile"): Block("MX", "52", ("55", "33", "81"), 8, "mobile"),
    ("PT", "mobile"): Block("PT", "351", ("91", "92", "93", "96"), 7, "mobile"),
    ("IT", "mobile"): Block("IT", "39", _span("320", "349"), 7, "mobile"),
}
BLOCK_LIST: tuple[Block, ...] = tuple(BLOCKS.values())
_BLOCK_INDEX = {key: i for i, key in enumerate(BLOCKS)}


def block_is_unique(block: Block) -> bool:
    """The properties the uniqueness argument above needs (checked by the tests)."""
    return block.space >= MAX_PHONE_ID and gcd(_A, block.space) == 1


# Ways people type numbers; `n` is the national number, `cc` the calling code.
_GROUPS_ES = {9: (3, 3, 3), 8: (2, 3, 3)}


def _grouped(n: str, sizes: tuple[int, ...]) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(n[at : at + size])
        at += size
    if at < len(n):
        parts.append(n[at:])
    return " ".join(p for p in parts if p)


def _typed_es(n: str, style: int) -> str:
    if style == 0:
        return n
    if style == 1:
        return _grouped(n, (3, 3, 3)) if n[0] in "67" else _grouped(n, (2, 3, 2, 2))
    if style == 2:
        return "+34 " + _grouped(n, (3, 2, 2, 2))
    if style == 3:
        return "0034" + n
    if style == 4:
        return "+34" + n
    return f"{n[:3]}-{n[3:5]}-{n[5:7]}-{n[7:]}"


def _typed_foreign(cc: str, n: str, style: int) -> str:
    if style in (0, 1):
        return f"+{cc} " + _grouped(n, (3, 3, 4) if cc == "1" else (len(n) - 6, 3, 3))
    if style in (2, 3):
        return f"+{cc}{n}"
    return f"00{cc} {n}"


@dataclass(frozen=True)
class DemoPhone:
    typed: str
    e164: str | None
    digits_rev: str
    block: int = -1  # index in BLOCK_LIST, -1 for a number that is not one

    @property
    def is_valid(self) -> bool:
        return self.e164 is not None


# A few numbers people type that are not phone numbers: kept as typed and flagged.
_INVALID_TYPED = ("ext. {d4}", "{d4}", "{d3} {d2}", "centralita {d3}")


def make_phone(rng: random.Random, phone_id: int, country: str, *, mobile: bool) -> DemoPhone:
    """The number of phone `phone_id` in `country`, typed in one of the usual ways."""
    key = (country, "mobile" if mobile else "landline")
    index = _BLOCK_INDEX.get(key)
    if index is None:
        index = _BLOCK_INDEX[(country, "mobile")]
    block = BLOCK_LIST[index]
    n = block.national(phone_id)
    style = rng.randrange(6)
    typed = _typed_es(n, style) if block.country == "ES" else _typed_foreign(block.cc, n, style)
    e164 = f"+{block.cc}{n}"
    return DemoPhone(typed, e164, e164[:0:-1], index)


def e164_of(block: int, phone_id: int) -> str:
    """The E.164 number `make_phone` gave phone `phone_id` in block `block`."""
    b = BLOCK_LIST[block]
    return f"+{b.cc}{b.national(phone_id)}"


def make_invalid_phone(rng: random.Random) -> DemoPhone:
    """A scribble in a phone field: no E.164, reversed digits of what was typed."""
    template = rng.choice(_INVALID_TYPED)
    typed = template.format(
        d4=rng.randrange(1000, 10000), d3=rng.randrange(100, 1000), d2=rng.randrange(10, 100)
    )
    return DemoPhone(typed, None, digits(typed)[::-1])
