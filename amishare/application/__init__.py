"""The one entry point every caller goes through: the HTTP API, the command
line, the console and the analyzer all run operations with `Application.invoke`."""

from amishare.application.call import Call, Outcome
from amishare.application.invoke import Application

__all__ = ["Application", "Call", "Outcome"]
