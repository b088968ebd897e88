"""The refusal of a whole file, shared by the CSV and .xlsx readers."""

from __future__ import annotations

from models.core.errors import ValidationFailed


class FileRejected(ValidationFailed):
    """The file as a whole cannot be imported; the message says why.

    `template` is the English gettext msgid (marked with N_) and `params` its values, for
    the panel to say it in the reader's language; `message` is the English sentence.
    """

    def __init__(self, template: str, **params: str) -> None:
        message = template % params if params else template
        super().__init__({"file": message})
        self.message = message
        self.template = template
        self.params = params
