"""Search keys of names and companies: lower-case, accents removed, spaces collapsed.

The database's trigram search reads these keys (models/contacts/client_search.py), so that
"ndez" finds "Fernández" on SQLite and PostgreSQL alike. Pure and light (no ORM): the
import's worker processes compute the keys of every row, and start faster without
importing the rest of the product.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


class _WithoutCombiningMarks(dict[int, int | None]):
    """A `str.translate` table that deletes combining marks (accents once decomposed).

    Filled on demand: each character is classified once per process, later lookups are a
    dict hit inside `translate`, about ten times cheaper than testing every character with
    `unicodedata.combining` in Python (an import computes two keys per row).
    """

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_BARE = _WithoutCombiningMarks()


def search_key(text: str) -> str:
    """Lower-case, accents removed, spaces collapsed: what name searches compare."""
    if not text:
        return ""
    if not text.isascii():  # NFKD changes no ASCII text, and ASCII has no combining marks
        text = unicodedata.normalize("NFKD", text).translate(_BARE)
    return _SPACES.sub(" ", text).strip().lower()
