"""Each test's writes are rolled back: what one test commits, the next does not see."""
import pytest
from sqlalchemy import func, select

from core.extensions import db
from codes.models import ServicePoint


@pytest.mark.xdist_group("isolation")
@pytest.mark.parametrize("attempt", [1, 2])
def test_commits_inside_a_test_are_rolled_back_after_it(app, attempt):
    assert db.session.scalar(select(func.count()).select_from(ServicePoint)) == 0
    db.session.add(ServicePoint(client_id=f"isolation-{attempt}", secret_hash="0" * 64,
                                name="Isolation check", purposes=["x"]))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ServicePoint)) == 1
