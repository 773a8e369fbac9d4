"""Django's RedisCache with one redis.Redis client per connection pool.

The built-in backend constructs a new redis.Redis for every cache call; its constructor fills a
table of ~170 response callbacks each time, which cost more than the Redis round trip itself on
every authenticated request. A client over a pool is thread-safe, so one per pool is enough.
"""

from collections.abc import Callable

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis import ConnectionPool, Redis


class ReusedClientRedisCacheClient(RedisCacheClient):
    # RedisCacheClient's own (private) members used below, which django-stubs leaves out.
    _client: type[Redis]
    _get_connection_pool: Callable[[bool], ConnectionPool]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Redis] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
