"""Background jobs of the catalogue: evaluating a policy for everyone, re-evaluating one
holder when a credential of theirs is issued or revoked.

They run on the queue of ``app.jobs``: synchronously on the embedded default and in tests,
else in an ``rq worker onecode`` after the caller's commit. Jobs are idempotent: running one
twice changes nothing more.
"""
from __future__ import annotations

from core.jobs import JobFailed, WorkUnit, enqueue, queue, synchronous  # noqa: F401  (the catalogue's callers use them from here)


def evaluate_policy_job(policy_id: str) -> dict:
    """Evaluate one policy for everyone (idempotent)."""
    from catalog import policies

    with WorkUnit():
        policy = policies.get_policy(policy_id)
        if policy is None:
            return {"holders": 0, "found": 0, "lapsed": 0}
        return policies.evaluate_policy(policy)


def reevaluate_holder_job(holder_index: str) -> dict:
    """Evaluate every policy in force for one holder (idempotent)."""
    from catalog import policies

    with WorkUnit():
        return policies.reevaluate_holder(holder_index)


def credential_changed(holder_index: str, **_extra) -> None:
    """The wallet's ``credential_changed`` signal: re-evaluate that holder."""
    enqueue(reevaluate_holder_job, holder_index)


def on_person_registered(person, **_extra):
    """Receiver of ``core.signals.person_registered``: tell the new resident what applies."""
    from catalog import policies

    policies.tell_new_resident(person)


def on_credential_changed(sender, **extra):
    """Receiver of ``core.signals.credential_changed``."""
    credential_changed(sender, **extra)
