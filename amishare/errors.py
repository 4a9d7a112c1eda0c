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
