"""Fixtures of the chat tests."""

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from chat.tests.helpers import all_sockets_disconnect


@pytest.fixture(autouse=True)
async def _sockets_and_connections_closed():
    """Every socket a test opened is disconnected (its consumer cleans up within the test), then
    the database connections of database_sync_to_async's thread are closed: left open, they make
    the test database's teardown warn that it "is being accessed by other users". Closed without
    database_sync_to_async's health check, which would reconnect: refused to a test without
    database access that runs after one with it in the same process."""
    yield
    await all_sockets_disconnect()
    await sync_to_async(connections.close_all, thread_sensitive=True)()
