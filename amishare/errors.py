"""The one exception type every layer raises for a client-visible failure.

The protocol layer turns it into the wire format of the service that was
called; the domain only names the AWS error code and message.
"""


class AwsError(Exception):
    """`fields` are further members of the error's modeled shape that the JSON protocol
    writes next to the message, such as the `Reason` of an Organizations exception."""

    def __init__(self, code: str, message: str, status: int = 400, sender: bool = True, fields: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        self.fields = fields


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message)


def missing_parameter(name: str) -> AwsError:
    return AwsError("MissingParameter", f"The request must contain the parameter {name}")


def invalid_combination(message: str) -> AwsError:
    return AwsError("InvalidParameterCombination", message)


class DryRunSucceeded(Exception):
    """Raised after a dry run passed every check, so the transaction rolls back."""


def constraint_violation(value, member: str, constraint: str) -> str:
    """One violated input constraint, in the words of the services that answer ValidationError (IAM, STS)."""
    shown = value if not isinstance(value, str) or len(value) <= 128 else value[:128] + "..."
    if isinstance(shown, str):  # control characters are shown escaped: they can't be written in XML
        shown = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in shown)
    return f"Value '{shown}' at '{member}' failed to satisfy constraint: {constraint}"


def validation_error(problems: list[str]) -> AwsError:
    count = len(problems)
    return AwsError("ValidationError",
                    f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(problems)}")
