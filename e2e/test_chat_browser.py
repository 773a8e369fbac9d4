"""Headless Chromium on a frontend origin opens the chat socket as a browser app does: a ticket from
the API (CORS), `new WebSocket(url, ["chat.v1", "ticket." + t])` through nginx (TLS), one message
sent and received. The page is e2e/browser/chat_socket.html; the stack is e2e/test_chat.py's."""

import asyncio
import contextlib
import queue
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from e2e import chromium as browsers
from e2e.test_chat import chat_stack, login, open_for_session, pairs_create
from tools.stack import Stack

PAGE = Path(__file__).parent / "browser" / "chat_socket.html"
PAGE_PATH = "/chat.html"
BROWSER_TIMEOUT = 30  # seconds for the page's result; a run takes about 2 s


@pytest.fixture(scope="module")
def chat(request) -> Stack:
    return chat_stack(request.config)


@pytest.fixture(scope="module")
def chromium() -> str:
    return browsers.chromium_path()


@contextlib.contextmanager
def frontend(origin: str, chat: Stack):
    """Serve the page at `origin` (HTTPS, the stack's certificate) from a thread; yields a queue
    that gets what the page POSTs to /result."""
    port = int(urlsplit(origin).port or 443)
    with browsers.reporting_page(PAGE.read_bytes(), PAGE_PATH, port, chat.certificate) as results:
        yield results


def page_result(chromium: str, spki: str, url: str, results: queue.Queue) -> dict:
    return browsers.page_report(chromium, spki, url, results, timeout=BROWSER_TIMEOUT)


def rest(chat: Stack, method: str, path: str, access: str, body=None):
    reply = chat.request(method, path, body=body, headers={"Authorization": f"Bearer {access}"})
    assert reply.status in (200, 201), reply.body
    return reply.json()


def test_two_users_befriend_over_rest_and_a_browser_page_chats_over_the_socket(chat, chromium):
    """The README's two-user session: friends and a direct room through the API, then the page
    sends on its socket and the friend's socket, opened before they were friends, receives."""
    pair = pairs_create(chat, 1, friends=False)[0]
    first, second = login(chat, pair["a"]["email"]), login(chat, pair["b"]["email"])
    origin = chat.env["CHAT_ALLOWED_ORIGINS"]
    body = "안녕하세요 from Chromium"

    async def scenario():
        friend = await open_for_session(chat, second["access"])
        asked = await asyncio.to_thread(
            rest,
            chat,
            "POST",
            "/api/chat/friend-requests/",
            first["access"],
            {"user": pair["b"]["id"]},
        )
        request_id = (await friend.receive_type("friend.request"))["request"]["id"]
        assert request_id == asked["id"]
        accept = f"/api/chat/friend-requests/{request_id}/accept/"
        await asyncio.to_thread(rest, chat, "POST", accept, second["access"])
        room = await asyncio.to_thread(
            rest,
            chat,
            "POST",
            "/api/chat/rooms/direct/",
            first["access"],
            {"user": pair["b"]["id"]},
        )
        joined = await friend.receive_type("membership.added")
        query = {"api": chat.base_url, "access": first["access"], "room": room["id"], "body": body}
        with frontend(origin, chat) as results:
            spki = browsers.certificate_spki(chat.certificate)
            url = f"{origin}{PAGE_PATH}?{urlencode(query)}"
            result = await asyncio.to_thread(page_result, chromium, spki, url, results)
        arrived = await friend.receive_type("message.new")
        await friend.close()
        return room["id"], joined, result, arrived["message"]

    room, joined, result, arrived = asyncio.run(scenario())
    assert joined == {"type": "membership.added", "room": room, "last_seq": 0}
    assert "error" not in result, result
    assert result["ticketStatus"] == 201
    assert result["protocol"] == "chat.v1"
    by_type = {frame["type"]: frame for frame in result["frames"]}
    assert by_type["hello"]["user"]["id"] == pair["a"]["id"]
    ack, new = by_type["message.ack"], by_type["message.new"]["message"]
    assert (ack["client_msg_id"], ack["room"], ack["seq"]) == (result["clientMsgId"], room, 1)
    assert (new["id"], new["seq"], new["body"]) == (ack["id"], 1, body)
    # The friend, on a socket of their own, got the same message.
    assert (arrived["id"], arrived["body"]) == (ack["id"], body)
    assert arrived["sender"]["id"] == pair["a"]["id"]
