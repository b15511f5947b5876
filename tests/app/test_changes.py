"""Change stamps (app.changes): replaced after a commit that changed what a person sees, never
before it and never for a rollback; bookkeeping alone reaches no one; a Redis failure after
the commit is logged, and the commit stands."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import redis

from core import changes
from core.extensions import db
from core.store import redis_client
from catalog import notices
from catalog.models import Notice, Policy
from tests.catalog.support import make_publisher, publish
from tests.helpers import resident

SENIORS = [{"credential": "resident-id", "claim": "birthdate", "op": "age_gte", "value": 60}]


def _stamp(person_id: str):
    return redis_client().get(changes.stamp_key(person_id))


def test_a_stamp_changes_after_the_commit_and_not_before(client, clock):
    person_id = resident(client)["profile"]["id"]
    before = _stamp(person_id)
    notices.notify(person_id, notices.POLICY, "A policy found for you")
    db.session.flush()
    assert _stamp(person_id) == before
    db.session.commit()
    assert _stamp(person_id) not in (None, before)


def test_a_rollback_changes_no_stamp(client, clock):
    person_id = resident(client)["profile"]["id"]
    before = _stamp(person_id)
    notices.notify(person_id, notices.POLICY, "A policy found for you")
    db.session.flush()
    db.session.rollback()
    db.session.commit()  # nothing left to commit, and no mark either
    assert _stamp(person_id) == before


def test_a_savepoint_released_waits_for_the_real_commit(client, clock):
    person_id = resident(client)["profile"]["id"]
    before = _stamp(person_id)
    with db.session.begin_nested():
        notices.notify(person_id, notices.POLICY, "A policy found for you")
    assert _stamp(person_id) == before
    db.session.commit()
    assert _stamp(person_id) not in (None, before)


def test_a_core_statement_marks_only_the_persons_it_names(client, clock):
    first, second = (resident(client)["profile"]["id"] for _ in range(2))
    before, untouched = _stamp(first), _stamp(second)
    notices.notify_many([{"person_id": first, "kind": notices.POLICY, "text": "t", "ref": None}])
    db.session.commit()
    assert _stamp(first) not in (None, before) and _stamp(second) == untouched


def test_the_lookups_run_after_the_commit(client, clock):
    """A long job marks whoever a query selects; someone who begins to match it through
    another commit before the job commits (registering while a policy job writes their match)
    is found, because the query runs after the commit. One test connection stands in for the
    other transaction: the row changes, unwatched, after the job marked the query."""
    from sqlalchemy import select, update

    from identity.models import Person

    person_id = resident(client, name="张三丰")["profile"]["id"]
    before = _stamp(person_id)
    query = select(Person.id).where(Person.name == "李四光")
    changes.touch(db.session, queries=(query,))
    assert db.session.scalar(query) is None  # nobody is called that yet
    db.session.execute(update(Person).where(Person.id == person_id).values(name="李四光"))
    db.session.commit()
    assert _stamp(person_id) not in (None, before)


def test_bookkeeping_alone_reaches_no_one(client, clock):
    publish(client, make_publisher(client), SENIORS)
    policy = db.session.query(Policy).one()
    everyone = redis_client().get(changes.EVERYONE_KEY)
    policy.evaluated_at = datetime.now(timezone.utc)
    db.session.commit()
    assert redis_client().get(changes.EVERYONE_KEY) == everyone
    policy.name = "高龄津贴（新）"
    db.session.commit()
    assert redis_client().get(changes.EVERYONE_KEY) not in (None, everyone)


def test_a_redis_failure_after_the_commit_is_logged_and_the_commit_stands(client, clock, monkeypatch, caplog):
    person_id = resident(client)["profile"]["id"]

    class Down:
        def pipeline(self, transaction=False):
            raise redis.ConnectionError("down")

    monkeypatch.setattr(changes, "redis_client", lambda: Down())
    notice = notices.notify(person_id, notices.POLICY, "A policy found for you")
    with caplog.at_level(logging.WARNING, logger="core.changes"):
        db.session.commit()
    assert "change stamps not renewed" in caplog.text
    assert db.session.get(Notice, notice.id) is not None


def test_a_match_for_someone_not_registered_yet_renews_their_holder_stamp(client, clock):
    # They may register while the job is still running; their screen must not miss the match.
    from catalog import policies
    from identity.service import id_number_index
    from tests.helpers import registration_data

    publish(client, make_publisher(client), SENIORS)
    policy = db.session.query(Policy).one()
    index = id_number_index(registration_data()["id_number"])
    key = changes.holder_stamp_key(index)
    assert redis_client().get(key) is None
    outcome = policies.record_outcome(policy, [index], {index}, datetime.now(timezone.utc))
    db.session.commit()
    assert outcome == {"found": 1, "lapsed": 0}
    assert redis_client().get(key) is not None
