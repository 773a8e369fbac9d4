"""Cost of the configured Argon2id hasher, and login timing for unknown user vs. wrong password.

A hash and a verify must take 50-150 ms, and user_authenticate fail in equal time whether or not
the account exists. config.settings.local on an in-memory SQLite database.
"""

import os
import statistics
import time
import uuid

from bench import harness
from bench.harness import figure
from tools.procs import script_main

HASH_TARGET_MS = (50.0, 150.0)
# Medians move a few per cent between runs on a busy 2-core host; more points at real extra work.
TIMING_GAP_TARGET = 0.05
PASSWORD = "correct-horse-battery-staple"


def django_setup() -> None:
    # Forced, not defaulted: `make` exports config.settings.local, a shell may export test's MD5.
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL="sqlite://:memory:"
    )
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def timed_ms(fn) -> float:
    began = time.perf_counter()
    fn()
    return (time.perf_counter() - began) * 1000


def hasher_timings(rounds: int) -> tuple[str, list[float], list[float]]:
    from django.contrib.auth.hashers import get_hasher

    from accounts.hashers import TunedArgon2PasswordHasher

    hasher = get_hasher("default")
    if not isinstance(hasher, TunedArgon2PasswordHasher):
        raise RuntimeError(f"the default hasher is {type(hasher).__name__}, not Argon2id")
    encoded = hasher.encode(PASSWORD, hasher.salt())
    hasher.verify(PASSWORD, encoded)
    hash_ms = [timed_ms(lambda: hasher.encode(PASSWORD, hasher.salt())) for _ in range(rounds)]
    verify_ms = [timed_ms(lambda: hasher.verify(PASSWORD, encoded)) for _ in range(rounds)]
    return "$".join(encoded.split("$")[1:4]), hash_ms, verify_ms


def login_timings(rounds: int) -> tuple[list[float], list[float]]:
    """Alternates the two cases so drift on the host weighs on both alike; one warm-up each."""
    from accounts.models import CustomUser
    from accounts.services import user_authenticate
    from core.exceptions import ApplicationError

    name = f"bench-{uuid.uuid4().hex[:8]}"
    user = CustomUser.objects.create_user(f"{name}@example.com", name, PASSWORD)

    def attempt(login: str) -> float:
        began = time.perf_counter()
        try:
            user_authenticate(login=login, password="not-the-password")
        except ApplicationError as exc:
            elapsed = (time.perf_counter() - began) * 1000
            if exc.code != "invalid_credentials":
                raise RuntimeError(f"login {login!r} failed with {exc.code!r}") from exc
            return elapsed
        raise RuntimeError(f"login {login!r} with a wrong password succeeded")

    unknown, wrong = [], []
    for i in range(rounds + 1):
        cases = [(unknown, f"nobody-{uuid.uuid4().hex}@example.com"), (wrong, user.email)]
        for bucket, login in cases if i % 2 == 0 else reversed(cases):
            elapsed = attempt(login)
            if i:
                bucket.append(elapsed)
    return unknown, wrong


def main() -> int:
    parser = harness.argument_parser(__doc__.splitlines()[0], load=False)
    parser.add_argument("--rounds", type=int, default=15, help="hashes and verifies (15)")
    parser.add_argument("--logins", type=int, default=20, help="login attempts per case (20)")
    args = harness.parse_args(parser, ("rounds", "logins"))

    django_setup()
    print(f"load average before {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    params, hash_ms, verify_ms = hasher_timings(args.rounds)
    low, high = HASH_TARGET_MS
    hash_med, verify_med = statistics.median(hash_ms), statistics.median(verify_ms)
    print(f"TunedArgon2PasswordHasher {params}, median of {args.rounds}:")
    for label, samples, med in (("hash", hash_ms, hash_med), ("verify", verify_ms, verify_med)):
        inside = "inside" if low <= med <= high else "OUTSIDE"
        print(f"  {label:<7}{med:7.1f} ms  (min {min(samples):.1f}, max {max(samples):.1f}); "
              f"target {low:g}-{high:g} ms: {inside}")  # fmt: skip
    unknown, wrong = login_timings(args.logins)
    unknown_med, wrong_med = statistics.median(unknown), statistics.median(wrong)
    gap = unknown_med - wrong_med
    gap_ok = abs(gap) <= TIMING_GAP_TARGET * wrong_med
    print(f"user_authenticate, {args.logins} attempts per case, both invalid_credentials:")
    for label, samples in (("unknown user", unknown), ("wrong password", wrong)):
        print(f"  {label:<15} mean {statistics.mean(samples):6.1f} ms  median "
              f"{statistics.median(samples):6.1f} ms  stdev "
              f"{statistics.stdev(samples):5.1f}")  # fmt: skip
    mean_gap = statistics.mean(unknown) - statistics.mean(wrong)
    print(f"  difference (unknown - wrong): mean {mean_gap:+.1f} ms")
    target = f"{low:g}-{high:g} ms"
    harness.report(args, [
        figure(f"Argon2id hash, median ({params})", f"{hash_med:.1f} ms", target,
               low <= hash_med <= high),
        figure("Argon2id verify, median", f"{verify_med:.1f} ms", target,
               low <= verify_med <= high),
        figure("login, unknown user, median", f"{unknown_med:.1f} ms"),
        figure("login, wrong password, median", f"{wrong_med:.1f} ms"),
        figure("login time gap, unknown - wrong", f"{gap:+.1f} ms ({gap / wrong_med:+.1%})",
               f"|gap| <= {TIMING_GAP_TARGET:.0%}", gap_ok),
    ])  # fmt: skip
    return 0


if __name__ == "__main__":
    script_main(main)
