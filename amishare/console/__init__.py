"""The web console: server-rendered pages over `Application.invoke`, like any other caller.

It holds no permission logic of its own: every page is the result of the same
operations the API runs (DescribeImages, ModifyImageAttribute, ...), invoked as
the signed-in principal, and every refusal is the API's error code and message.
"""

from amishare.console.app import Console

__all__ = ["Console"]
