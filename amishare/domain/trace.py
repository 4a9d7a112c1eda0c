"""An optional record of the steps a decision went through, for access analysis.

Enforcement and explanation run the same functions: they note what they decided (which
grant matched, which key policy statement allowed, which guardrail refused) here, and
the note is kept only when an explanation opened a record on the call's context. With no
record open, noting costs one dictionary lookup.
"""

ALLOWED, DENIED = "allowed", "denied"
_KEY = "trace"


def start(ctx) -> list:
    """Open a record on `ctx` (a fresh one: any earlier record is dropped) and return it."""
    ctx.memo[_KEY] = []
    return ctx.memo[_KEY]


def active(ctx) -> bool:
    return ctx.memo.get(_KEY) is not None


def note(ctx, step: str, decision: str, detail: str = "", **extra) -> None:
    record = ctx.memo.get(_KEY)
    if record is not None:
        entry = {"Step": step, "Decision": decision, "Detail": detail}
        entry.update({k: v for k, v in extra.items() if v is not None})
        record.append(entry)


# A check is (step name, what it establishes, a function that raises the call's AwsError when
# the check fails and may return what it read). Enforcement runs them in order and stops at
# the first failure (`enforce`); an explanation runs all of them and notes each (`explain`).
# Either way the same functions decide, so they can't disagree about the outcome.


def enforce(checks) -> dict:
    """Run every check in order, raising the first failure; what each returned, by step name."""
    return {name: check() for name, _what, check in checks}


def explain(ctx, checks) -> bool:
    """Run every check, noting each outcome; True when none failed."""
    from amishare.errors import AwsError

    passed = True
    for name, what, check in checks:
        try:
            check()
        except AwsError as exc:
            passed = False
            note(ctx, name, DENIED, exc.message, ErrorCode=exc.code)
        else:
            note(ctx, name, ALLOWED, what)
    return passed
