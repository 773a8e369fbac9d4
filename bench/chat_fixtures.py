"""Chat data for bench/chat.py and faults/scenario_chat.py, made with Django in the process that
calls it (bench/chat.py runs these in `manage.py shell -c`, faults/run.py in its own process):
users befriended by one owner, group rooms made through chat.services, tickets through
chat.services.sockets.ticket_issue, and the query count of a history page."""

import json
import time

from tools import fixtures

CLIENT = "bench/chat.py"


def group_rooms(prefix: str, sizes: list[int]) -> dict:
    """max(sizes) users named `prefix`N, the first of them (the owner) friends with every other;
    one group room per size made by the owner through chat.services.rooms.group_room_create, of
    the first `size` users; one login session each. {"users": [ids], "sessions": [ids],
    "rooms": {size: room id}}."""
    from django.db import transaction

    from accounts.auth.services import ClientInfo, auth_session_start
    from chat.models import Friendship
    from chat.services.rooms import group_room_create

    people = fixtures.users(prefix, max(sizes))
    owner, others = people[0], people[1:]
    Friendship.objects.bulk_create(Friendship(user_low=owner, user_high=o) for o in others)
    rooms = {}
    for size in sizes:
        member_ids = [person.pk for person in people[1:size]]
        room = group_room_create(user=owner, title=f"{prefix} {size}", member_ids=member_ids)
        rooms[size] = room.pk
    client = ClientInfo(user_agent=CLIENT, ip="127.0.0.1")
    with transaction.atomic():
        sessions = [auth_session_start(user=p, client=client)[0].pk for p in people]
    return {"users": [p.pk for p in people], "sessions": [str(s) for s in sessions],
            "rooms": rooms}  # fmt: skip


def tickets(user_ids: list[int], session_ids: list[str], per_user: int = 1) -> list[str]:
    """`per_user` fresh single-use tickets of each user's session, user by user."""
    from django.db import transaction

    from accounts.models import CustomUser
    from chat.services.sockets import ticket_issue

    people = CustomUser.objects.in_bulk(user_ids)
    with transaction.atomic():
        return [
            ticket_issue(user=people[user_id], session_id=session_id)[0]
            for user_id, session_id in zip(user_ids, session_ids, strict=True)
            for _ in range(per_user)
        ]


def history_queries(prefix: str, sizes: list[int], page: int = 50) -> dict:
    """A group room of two friends per size, holding that many messages (bulk-created, seq
    1..size); the SQL queries of chat.selectors.rooms.messages_page for the latest `page`
    messages and for the page before them. {size: [queries latest, queries before]}."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from chat.models import Friendship, Message, Room
    from chat.payloads import message_data
    from chat.selectors.rooms import messages_page
    from chat.services.rooms import group_room_create

    owner, reader = fixtures.users(prefix, 2)
    Friendship.objects.create(user_low=owner, user_high=reader)
    now, room_ids = timezone.now(), {}
    for size in sizes:
        room = group_room_create(user=owner, title=f"{prefix}{size}", member_ids=[reader.pk])
        Message.objects.bulk_create(
            (Message(room=room, seq=seq, sender=(owner, reader)[seq % 2], body=f"message {seq}",
                     client_msg_id=f"h{room.pk}-{seq}", created_at=now)
             for seq in range(1, size + 1)),
            batch_size=2000,
        )  # fmt: skip
        Room.objects.filter(pk=room.pk).update(last_seq=size)
        room_ids[size] = room.pk
    fixtures.analyze()
    found = {}
    for size, room_id in room_ids.items():
        counts = []
        for before_seq in (None, size - page + 1):
            with CaptureQueriesContext(connection) as queries:
                messages, _more = messages_page(
                    user=reader, room_id=room_id, before_seq=before_seq, limit=page
                )
                [message_data(message) for message in messages]  # as REST renders them
            counts.append(len(queries))
        found[size] = counts
    return found


def prepare(sizes: list[int], history: list[int], idle: int, layers: int) -> None:
    """Everything bench/chat.py needs, printed as one JSON line: the rooms and their users, the
    history query counts, and for each of `layers` runs the tickets of the fan-out (one per
    member of the largest room) and of the idle sockets (`idle`, spread over those users)."""
    from django.conf import settings

    began = time.monotonic()
    made = group_rooms("bench-chat-", sizes)
    users, sessions = made["users"], made["sessions"]
    per_user = -(-idle // len(users))
    runs = []
    for _ in range(layers):
        idle_tickets = tickets(users, sessions, per_user)[:idle]
        runs.append({"fanout": tickets(users, sessions), "idle": idle_tickets})
    queries = history_queries("bench-history-", history)
    fixtures.analyze()
    print(json.dumps({**made, "runs": runs, "history": queries,
                      "layer": settings.CHAT_CHANNEL_LAYER,
                      "seconds": round(time.monotonic() - began, 1)}))  # fmt: skip
