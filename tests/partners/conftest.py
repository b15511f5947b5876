import pytest

from partners.keys import forget_cached_key


@pytest.fixture(autouse=True)
def _fresh_id_token_key():
    # Each test's database is rolled back, and the signing key with it.
    forget_cached_key()
    yield
    forget_cached_key()
