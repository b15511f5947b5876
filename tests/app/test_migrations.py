"""The migrations build exactly what the models declare (a model change without its
migration fails here, on SQLite and on PostgreSQL)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.extensions import db


def test_the_migrations_build_what_the_models_declare(app):
    differences = compare_metadata(MigrationContext.configure(db.session.connection()), db.metadata)
    assert differences == []
