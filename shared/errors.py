"""The errors a command can end in, which every service's HTTP frame turns into answers.

They are plain exceptions so that domain code can raise them without knowing about HTTP:
`RuleViolation` is a 422 naming the input at fault, `NotFound` a 404, `Refused` (and
`AlreadyExists`) a 409. (`shared.eventstore.ConcurrencyConflict` is the other 409.) Messages carry
Vietnamese for the people who read them, then English.
"""


class RuleViolation(ValueError):
    """A command broke a rule; `field` names the input at fault, the message says why."""

    def __init__(self, field: str, message: str, *, location: str = "body") -> None:
        self.field = field
        self.location = location  # "body", "query", "path" or "header", as FastAPI says
        super().__init__(message)


class NotFound(LookupError):
    """The thing a request names does not exist (in the caller's province)."""


class Refused(Exception):
    """The request is well formed, but the current state refuses it (a locked period...)."""


class AlreadyExists(Refused):
    """A create named an id that is already taken."""
