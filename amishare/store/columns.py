"""Values checked against their columns before they are written.

PostgreSQL fails a statement whose text is longer than its column (an internal error for
the caller) and SQLite stores it anyway; both now refuse it the same way, as EC2 refuses a
value over its documented length, before anything is written.
"""

from amishare.errors import AwsError


def _parameter(column_name: str) -> str:
    return "".join(part.capitalize() for part in column_name.split("_"))


def check_fits(table, *rows: dict) -> None:
    for row in rows:
        for key, value in row.items():
            if not isinstance(value, str) or key not in table.c:
                continue
            length = getattr(table.c[key].type, "length", None)
            if length is not None and len(value) > length:
                raise AwsError(
                    "InvalidParameterValue",
                    f"The value for {_parameter(key)} is too long ({len(value)} characters; at most {length}).",
                )
