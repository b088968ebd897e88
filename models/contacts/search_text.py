"""Search text of names: lower-case, accents removed, split into words.

Pure and light (no ORM): the import's worker processes compute search keys and words of
every row, and start faster without importing the rest of the product.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


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


def words_of(*texts: str) -> list[str]:
    """The distinct search words of a name and company name, in order."""
    return words_in(*(search_key(text) for text in texts))


def words_in(*keys: str) -> list[str]:
    """`words_of` for texts already turned into search keys."""
    words: dict[str, None] = {}
    for key in keys:
        for word in _WORD.findall(key):
            words[word[:60]] = None
    return list(words)
