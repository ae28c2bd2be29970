"""The one family of errors meant for people; `answer` and the transports turn them into replies."""

from __future__ import annotations


class UserError(Exception):
    """Something the person asked that cannot be answered; the message says what would work."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.suggestions = tuple(suggestions)

    def __str__(self) -> str:
        return self.message


class ParseError(UserError):
    """The command text does not follow the command language."""


class Refused(ParseError):
    """A command that can't be answered as typed (a name twice, two values for one option, an unknown
    field); the message says what works. Plain-English reading never rereads such a command into a
    different question: the refusal is the answer.
    """


class OptionRefused(Refused):
    """A well-formed command asking for an option its verb can't honour; the message says what works."""


class UnknownName(UserError):
    """A country, group or field name that is not in the reference tables."""


class UnknownGroup(UnknownName):
    """A group name that is not in the reference tables, or one with no member list to use ("Global
    South", GPAI after `among`: `undefined`); `typed` is the name as given; `after_keyword` when it
    followed `among` or `between`, where nothing but a group can be meant."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = (), typed: str = "", undefined: bool = False):
        super().__init__(message, suggestions)
        self.typed = typed
        self.undefined = undefined
        self.after_keyword = False


class UnknownField(UnknownName):
    """A field name that is not in the reference tables; `typed` is the name as given."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = (), typed: str = ""):
        super().__init__(message, suggestions)
        self.typed = typed


class RejectedSQL(UserError):
    """SQL the validator refuses to run."""


class QueryFailed(UserError):
    """A validated query failed while running (time limit, memory cap)."""


class DataUnavailable(UserError):
    """The data needed for the answer is missing (no database, no such source or field)."""
