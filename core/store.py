"""Redis: the real server when ``REDIS_URL`` is set, else an in-process fakeredis server.

Both speak the redis-py API, so every caller runs the same code on either. Keys carry a hash
tag (``{...}``) per subject, so the same code runs on Redis Cluster: with ``REDIS_CLUSTER`` set,
``REDIS_URL`` names one node and the client finds the others (``redis.cluster.RedisCluster``).
A multi-key command or transaction touches only keys of one tag; reads over many tags go
through ``get_many``.
"""
from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)


def _client(url: str):
    return redis.Redis.from_url(
        url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30)


class Store:
    def __init__(self):
        self.redis: redis.Redis | None = None
        self.jobs: redis.Redis | None = None
        self.embedded = False

    def init_app(self, app) -> None:
        url = app.config.get("REDIS_URL")
        if url and app.config.get("REDIS_CLUSTER"):
            from redis.cluster import RedisCluster

            self.redis = RedisCluster.from_url(
                url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30
            )
            self.embedded = False
        elif url:
            self.redis = _client(url)
            self.embedded = False
        else:
            import fakeredis

            self.redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
            self.embedded = True
            log.warning("REDIS_URL is not set: using in-process fakeredis; run one process only")
        jobs_url = app.config.get("REDIS_JOBS_URL")
        # RQ speaks to one Redis, not to a cluster: its keys carry no hash tags and its
        # transactions span them. On a cluster the queue lives on a Redis of its own.
        self.jobs = _client(jobs_url) if jobs_url else self.redis
        app.extensions["store"] = self

    @property
    def client(self) -> redis.Redis:
        from flask import current_app

        return current_app.extensions["store"].redis


def redis_client() -> redis.Redis:
    """The Redis client of the current application."""
    from flask import current_app

    return current_app.extensions["store"].redis


def jobs_redis() -> redis.Redis:
    """The Redis the job queue (RQ) lives on: ``REDIS_JOBS_URL``, else the main one."""
    from flask import current_app

    return current_app.extensions["store"].jobs


def get_many(keys: list[str]) -> list:
    """The values of ``keys`` (None where absent) in one round trip: an MGET on one Redis,
    split by hash slot on Redis Cluster, where an MGET over several slots is refused."""
    r = redis_client()
    many = getattr(r, "mget_nonatomic", None)  # RedisCluster only
    return many(keys) if many is not None else r.mget(keys)
