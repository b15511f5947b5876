import pytest

from partners.keys import forget_cached_key


@pytest.fixture(autouse=True)
def _fresh_id_token_key():
    # Each test's database is rolled back, and the signing key with it.
    forget_cached_key()
    yield
    forget_cached_key()


@pytest.fixture
def client(app):
    """A browser that reads English: these tests match the pages' and answers' words, which
    are Chinese by default (tests/web checks both languages)."""
    english = app.test_client()
    english.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return english
