"""`Application.invoke`: one transaction per call, then an ordered chain.

Inside the transaction: authorize, then the operation (and, with them, anything
that must commit or roll back with the call). After it, whatever happened:
the observers (audit trail, metrics), which see refused and failed calls too.
The audit trail's records are written by `audit.TrailRecorder`, one of the observers.
"""

import logging
import time
from typing import Callable

from sqlalchemy.exc import IntegrityError, OperationalError

from amishare.application.audit import TrailListener, TrailRecorder
from amishare.application.authorize import authorize
from amishare.application.call import Call, Outcome
from amishare.application.identity import Identities
from amishare.application.limits import bound_request
from amishare.application.policy_changes import note_policy_changes
from amishare.config import Settings
from amishare.domain.context import Ctx
from amishare.domain.events import cloudtrail_listener
from amishare.domain.secretbox import SecretBox
from amishare.errors import AwsError, DryRunSucceeded
from amishare.services import Operation, load_all, lookup
from amishare.store.db import DeadlineExceeded, Store, is_timeout

log = logging.getLogger("amishare")

DRY_RUN_MESSAGE = "Request would have succeeded, but DryRun flag is set."
_ATTEMPTS = 3

Step = Callable[[Ctx, Operation, dict], None]
Observer = Callable[[Call, Operation | None, Outcome], None]
Preparer = Callable[[Call, Operation], None]


class Application:
    def __init__(self, store: Store, settings: Settings, box: SecretBox):
        load_all()
        self.store = store
        self.settings = settings
        self.box = box
        self.identities = Identities(store, box)
        # Run in order inside the call's transaction, before the handler.
        self.before: list[Step] = [bound_request, authorize]
        # Run in order inside the call's transaction, after the handler.
        self.after: list[Step] = [note_policy_changes]
        # Run in order before the call's transaction opens.
        self.before_transaction: list[Preparer] = []
        # Told about every call once it has ended, committed or not.
        self.observers: list[Observer] = []
        # Called with (connection, record) for every audit trail record, in the transaction
        # that writes it (so what they write commits with the record, or not at all).
        # EventBridge's "AWS API Call via CloudTrail" events mirror the trail's write records.
        self.trail_listeners: list[TrailListener] = [cloudtrail_listener]
        self.trail: TrailRecorder | None = None
        if settings.audit_trail:
            self.trail = TrailRecorder(store, settings, self.trail_listeners)
            self.before_transaction.append(self.trail.before_lookup)
            self.observers.append(self.trail.observe)

    def close(self) -> None:
        """Write what the audit trail still holds; the application takes no further calls."""
        if self.trail is not None:
            self.trail.close()

    def operation(self, service: str, name: str | None) -> Operation | None:
        return lookup(service, name)

    def invoke(self, call: Call) -> Outcome:
        """Run `call`; never raises for a client-visible failure (it is in `Outcome.error`)."""
        operation = self.operation(call.service, call.operation)
        outcome = Outcome(started_at=time.time())
        try:
            if operation is None:
                raise AwsError("InvalidAction", f"The action {call.operation} is not valid for this web service.")
            for prepare in self.before_transaction:
                prepare(call, operation)
            outcome.result = self._transact(operation, call, outcome)
        except DryRunSucceeded:
            outcome.dry_run_passed = True
            outcome.error = AwsError("DryRunOperation", DRY_RUN_MESSAGE, 412)
        except AwsError as exc:
            outcome.error = exc
        except Exception:
            log.exception("request %s failed", call.request_id)
            outcome.error = AwsError("InternalError", "An internal error has occurred", 500, sender=False)
        outcome.finished_at = time.time()
        self._observe(call, operation, outcome)
        return outcome

    def reject(self, call: Call, error: AwsError) -> Outcome:
        """A call refused before it could run (its parameters did not parse): the observers are
        told, as of any call, so that the audit trail records it."""
        now = time.time()
        outcome = Outcome(error=error, started_at=now, finished_at=now)
        self._observe(call, self.operation(call.service, call.operation), outcome)
        return outcome

    def _observe(self, call: Call, operation: Operation | None, outcome: Outcome) -> None:
        for observer in self.observers:
            try:
                observer(call, operation, outcome)
            except Exception:  # an observer's failure must not change the caller's answer
                log.exception("observer failed for request %s", call.request_id)

    def _transact(self, operation: Operation, call: Call, outcome: Outcome) -> dict:
        """Run the chain in one transaction. A concurrent request that won a race (a unique
        key, a lock) makes the call run again, so the domain answers with the state that won."""
        for attempt in range(_ATTEMPTS):
            try:
                with self.store.transaction(write=operation.writes, timeout=self.settings.request_timeout) as conn:
                    ctx = Ctx(conn, call.principal, call.region, time.time(), self.settings, call.request_id, self.box,
                              source_ip=call.source_ip, secure_transport=call.secure_transport)
                    for step in self.before:
                        step(ctx, operation, call.params)
                    result = operation.handler(ctx, call.params)
                    for step in self.after:
                        step(ctx, operation, call.params)
                    if call.dry_run:
                        raise DryRunSucceeded()
                    return result
            except IntegrityError as exc:
                if attempt == _ATTEMPTS - 1:
                    raise AwsError("Conflict", "The request conflicts with a concurrent change; retry it.", 409) from exc
                outcome.retries.append("conflict")
            except (OperationalError, DeadlineExceeded) as exc:
                if is_timeout(exc):
                    raise AwsError("ServiceUnavailable", "The request did not complete within its time budget; "
                                   "retry it, or ask for less at a time.", 503, sender=False) from None
                message = str(exc).lower()
                if attempt == _ATTEMPTS - 1 or not ("locked" in message or "serializ" in message or "deadlock" in message):
                    raise
                outcome.retries.append("lock")
        raise AssertionError("unreachable")
