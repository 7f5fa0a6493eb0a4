"""Rule violations of the registry's domain; the HTTP layer turns them into 422 answers."""


class RuleViolation(ValueError):
    """A command broke a rule; `field` names the input at fault, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)
