"""Redis: the real server when ``REDIS_URL`` is set, else an in-process fakeredis server.

Both speak the redis-py API, so every caller runs the same code on either. Keys carry a hash
tag (``{...}``) per subject, so the same code runs on Redis Cluster.
"""
from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)


class Store:
    def __init__(self):
        self.redis: redis.Redis | None = None
        self.embedded = False

    def init_app(self, app) -> None:
        url = app.config.get("REDIS_URL")
        if url:
            self.redis = redis.Redis.from_url(
                url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30
            )
            self.embedded = False
        else:
            import fakeredis

            self.redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
            self.embedded = True
            log.warning("REDIS_URL is not set: using in-process fakeredis; run one process only")
        app.extensions["store"] = self

    @property
    def client(self) -> redis.Redis:
        from flask import current_app

        return current_app.extensions["store"].redis


def redis_client() -> redis.Redis:
    """The Redis client of the current application."""
    from flask import current_app

    return current_app.extensions["store"].redis


def get_many(keys: list[str]) -> list:
    """The values of ``keys`` (None where absent) in one round trip: an MGET on one Redis,
    split by hash slot on Redis Cluster, where an MGET over several slots is refused."""
    r = redis_client()
    many = getattr(r, "mget_nonatomic", None)  # RedisCluster only
    return many(keys) if many is not None else r.mget(keys)
