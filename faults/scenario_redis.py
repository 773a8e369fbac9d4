"""Scenario 3: Redis stopped, then back (empty), then frozen (SIGSTOP: it accepts connections and
never answers) and thawed. Login and authenticated requests keep working on the database, a
logged-out session stays refused, health names the cache, nothing hangs; whether throttles fail
open or closed is found out and reported."""

import time

from faults.context import Context, print_requests, vote_outcomes
from tools.clients import Reply
from tools.fixtures import Check
from tools.flows import checkout_flow, vote_send

# The account that logs in (faults/run.py creates it).
ACCOUNT_EMAIL, ACCOUNT_PASSWORD = "faults-account@example.com", "faults-pass-1234"

# A stopped Redis refuses connections at once; allow one socket timeout (1 s) plus slack.
STOPPED_BOUND = 1.0 + 1.0
# A frozen Redis costs each cache call its full 1 s socket timeout, and an authenticated request
# with nothing cached makes up to four (session, user, its cache fill, contributions).
FROZEN_BOUND = 4 * 1.0 + 1.0
BACK_WITHIN = 5.0
WRONG_LOGINS = 11  # THROTTLE_LOGIN_ACCOUNT is 10/min: the 11th is refused when throttles count


class Session:
    """A client plus every result it got, in order."""

    def __init__(self, ctx: Context):
        self.ctx, self.client, self.results = ctx, ctx.client(), []

    def send(self, label: str, method: str, path: str, **kwargs) -> Reply:
        result = self.client.send(label, method, path, **kwargs)
        self.results.append(result)
        return result

    def login(self, login: str = ACCOUNT_EMAIL, password: str = ACCOUNT_PASSWORD) -> Reply:
        return self.send(
            "POST login", "POST", "/api/auth/login/", body={"login": login, "password": password}
        )

    def me(self, tokens: dict) -> Reply:
        return self.send("GET users/me", "GET", "/api/users/me/", token=tokens["access"])

    def logout(self, tokens: dict) -> Reply:
        return self.send(
            "POST logout", "POST", "/api/auth/logout/", body={"refresh": tokens["refresh"]}
        )

    def health(self) -> Reply:
        return self.send("GET health", "GET", "/api/health/")

    def wrong_logins(self, login: str) -> list[int | None]:
        return [self.login(login, f"wrong-password-{i}").status for i in range(WRONG_LOGINS)]


def _throttle_verdict(statuses: list) -> str:
    if any(s is None or s >= 500 for s in statuses):
        return "fail with an error (so closed: nobody can log in)"
    if 429 in statuses:
        return "fail closed (429)"
    return "fail open (no limit)"


def _health(result: Reply, *, cache: str) -> bool:
    data = result.data if isinstance(result.data, dict) else {}
    expected = 200 if cache == "ok" else 503
    return result.status == expected and data.get("cache") == cache and data.get("database") == "ok"


def _revoked(result: Reply) -> bool:
    return result.status == 401 and result.code == "session_revoked"


def _stopped(s: Session, ctx: Context, tokens: dict) -> dict:
    """Redis stopped: what works on the database alone."""
    began = len(s.results)
    ctx.stack.redis.stop()
    ballot = ctx.take("ballots", 1)[0]
    out = {
        "health": s.health(),
        "login": s.login(),
        "me A": s.me(tokens["A"]),
        "me B": s.me(tokens["B"]),
        "logout C": s.logout(tokens["C"]),
        "me C": s.me(tokens["C"]),
        "refresh A": s.send(
            "POST token/refresh", "POST", "/api/auth/token/refresh/",
            body={"refresh": tokens["A"]["refresh"]},
        ),
        "vote": vote_send(s.client, ctx.poll_id, ballot),
        "results": s.send("GET results", "GET", f"/api/polls/{ctx.poll_id}/results/"),
        "flow": checkout_flow(s.client, ctx.take("buyers", 1)[0]),
        "throttle": s.wrong_logins("nobody-while-down@example.com"),
    }  # fmt: skip
    s.results += out["flow"].steps
    s.results.append(out["vote"])
    out["latencies"] = [r.latency for r in s.results[began:]]
    out["server errors"] = [r for r in s.results[began:] if r.status == 500]
    vote = out["vote"]  # noted as sent, and as failed unless answered 201
    vote_outcomes(ctx, [(ballot, vote)], {} if vote.status == 201 else {ballot: vote})
    if out["flow"].paid:
        ctx.paid_payments.add(out["flow"].payment_id)
    return out


def _back(s: Session, ctx: Context, tokens: dict) -> dict:
    """Redis started again (empty): health recovers, revocations still hold, throttles count."""
    ctx.stack.redis.start()
    started = time.monotonic()
    while not _health(health := s.health(), cache="ok") and time.monotonic() - started < 10:
        time.sleep(0.1)
    return {
        "health": health,
        "health after": time.monotonic() - started,
        "me A": s.me(tokens["A"]),
        "me B": s.me(tokens["B"]),
        "me C": s.me(tokens["C"]),
        "me D": s.me(tokens["D"]),  # D's session is cached live again
        "login": s.login(),
        "throttle": s.wrong_logins("nobody-after@example.com"),
    }


def _frozen(s: Session, ctx: Context, tokens: dict) -> dict:
    """Redis frozen with D cached as live; D logs out meanwhile; then Redis thaws."""
    began = len(s.results)
    ctx.stack.redis.freeze()
    try:
        out = {
            "health": s.health(),
            "me A": s.me(tokens["A"]),
            "logout D": s.logout(tokens["D"]),
            "me D": s.me(tokens["D"]),
            "login": s.login(),
        }
    finally:
        ctx.stack.redis.thaw()
    out["latencies"] = [r.latency for r in s.results[began:]]
    out["me D after"] = s.me(tokens["D"])
    out["health after"] = s.health()
    return out


def run(ctx: Context) -> list[Check]:
    s = Session(ctx)
    tokens = {}
    for name in "ABCD":
        reply = s.login()
        if reply.status != 200:
            raise RuntimeError(f"login before the scenario answered {reply.status} {reply.data}")
        tokens[name] = reply.data
        s.me(reply.data)  # the session's "live" verdict is now cached
    revoked_before = s.logout(tokens["B"]).status == 204 and _revoked(s.me(tokens["B"]))
    down = _stopped(s, ctx, tokens)
    back = _back(s, ctx, tokens)
    frozen = _frozen(s, ctx, tokens)
    s.client.close()

    print_requests("3. Redis stopped, started (empty), frozen (SIGSTOP), thawed", s.results)
    print(
        f"  throttles while Redis is down: {_throttle_verdict(down['throttle'])}, "
        f"{WRONG_LOGINS} wrong logins answered {down['throttle']}; after it is back: "
        f"{back['throttle']}"
    )
    stopped_max, frozen_max = max(down["latencies"]), max(frozen["latencies"])
    d_after = frozen["me D after"]
    return [
        Check("set-up: B logged out with Redis up is refused", revoked_before),
        Check("stopped: health 503, cache unavailable, database ok",
              _health(down["health"], cache="unavailable"),
              f"{down['health'].status} {down['health'].data}"),
        Check("stopped: login works", down["login"].status == 200, down["login"].summary),
        Check("stopped: authenticated request works", down["me A"].status == 200),
        Check("stopped: token of a session logged out before is refused (DB fallback)",
              _revoked(down["me B"]), down["me B"].summary),
        Check("stopped: logout works and its token is refused at once",
              down["logout C"].status == 204 and _revoked(down["me C"]),
              f"logout {down['logout C'].summary}, then {down['me C'].summary}"),
        Check("stopped: token refresh works", down["refresh A"].status == 200,
              down["refresh A"].summary),
        Check("stopped: vote, results and a whole checkout work",
              down["vote"].status == 201 and down["results"].status == 200 and down["flow"].paid,
              f"vote {down['vote'].summary}, results {down['results'].status}, checkout "
              + ("paid" if down["flow"].paid else f"stopped at {down['flow'].last.label} "
                 f"{down['flow'].last.summary}")),
        Check(f"stopped: nothing hangs (max < {STOPPED_BOUND:g} s)", stopped_max < STOPPED_BOUND,
              f"max {stopped_max * 1000:.0f} ms over {len(down['latencies'])} requests"),
        Check("stopped: no 500", not down["server errors"],
              f"{len(down['server errors'])}: "
              + (", ".join(sorted({r.label for r in down["server errors"]})) or "none")),
        Check(f"back: health ok within {BACK_WITHIN:g} s of Redis answering",
              _health(back["health"], cache="ok") and back["health after"] < BACK_WITHIN,
              f"{back['health after']:.2f} s"),
        Check("back: live session works, B and C still refused, login works",
              back["me A"].status == 200 and _revoked(back["me B"]) and _revoked(back["me C"])
              and back["login"].status == 200),
        Check("back: throttles count again (429 after 10 wrong logins)",
              back["throttle"][-1] == 429 and 429 not in back["throttle"][:-1],
              str(back["throttle"])),
        Check(f"frozen: nothing hangs (max < {FROZEN_BOUND:g} s)", frozen_max < FROZEN_BOUND,
              "; ".join(f"{k} {v.summary} {v.latency:.2f} s" for k, v in frozen.items()
                        if isinstance(v, Reply) and k not in ("me D after", "health after"))),
        Check("frozen: D logged out meanwhile is refused",
              frozen["logout D"].status == 204 and _revoked(frozen["me D"]),
              f"logout {frozen['logout D'].summary}, then {frozen['me D'].summary}"),
        Check("thawed: D still refused (no stale 'live' verdict in the cache)",
              _revoked(d_after), d_after.summary),
        Check("thawed: health ok", _health(frozen["health after"], cache="ok")),
        *ctx.database_checks(),
    ]  # fmt: skip
