"""Chat over WebSocket on loopback, both channels_redis layers in the same run: fan-out to group
rooms of 10, 100 and 500 members at a fixed send rate (deliveries/s, send -> receive latency,
messages lost or repeated), memory per idle socket of one ASGI worker, and the SQL queries of a
history page of 50 messages.

    .venv/bin/python -m bench.chat [--seconds 4] [--layers core,pubsub] [--no-deflate]
"""

import asyncio
import json
import multiprocessing
import os
import resource
import secrets
import shutil
import time
from collections import Counter
from pathlib import Path

from bench import chat_clients
from bench.chat_figures import TARGET_IDLE, LayerResult, Phase, figures, print_table
from bench.harness import argument_parser, report
from tools import app, cpu
from tools.cpu import process_stats
from tools.procs import free_port, run_dir, script_main, stop
from tools.services import services

SIZES = (10, 100, 500)
HISTORY_SIZES = (60, 5000)
LAYERS = ("core", "pubsub")
WARM_SOCKETS = 20  # opened and closed before the idle RSS is read: lazy imports, pools, caches
# The bench measures delivery, not the per-user message limit, and mints its tickets up front.
BENCH_ENV = {"CHAT_MESSAGE_RATE": "100000", "CHAT_MESSAGE_BURST": "100000",
             "CHAT_FRAME_RATE": "100000", "CHAT_FRAME_BURST": "100000",
             "CHAT_TICKET_SECONDS": "900"}  # fmt: skip
GROUPS = ("asgi", "postgres", "redis", "clients")
# Send rates (messages/s) per room size: 60 to 100 members is 6,000 deliveries/s, above the
# target; 500 members get the same 6,000/s (12 messages/s) rather than a backlog of minutes.
RATES = {10: 60.0, 100: 60.0, 500: 12.0}
STALL, DRAIN_CAP = 3.0, 45.0


def worker_of(master: int, timeout: float = 10.0) -> int:
    """The one worker process of a gunicorn master."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [pid for pid, f in process_stats().items() if f[1] == str(master) and f[0] != "Z"]
        if len(found) == 1:
            return found[0]
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn {master} has no single worker")


def sockets_per_worker(master: int) -> list[int]:
    """Open sockets of each worker process of a gunicorn master (client sockets, plus each
    worker's few of its own: listener, PostgreSQL, Redis), most first."""
    workers = [pid for pid, f in process_stats().items() if f[1] == str(master) and f[0] != "Z"]
    counts = []
    for pid in workers:
        fds = Path(f"/proc/{pid}/fd")
        counts.append(sum(os.readlink(fd).startswith("socket:") for fd in fds.iterdir()))
    return sorted(counts, reverse=True)


def rss_kib(pid: int) -> int:
    """Resident memory of a process, KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# --- Processes of receiving sockets -------------------------------------------------------------


class Receivers:
    """Client processes each holding a share of the sockets, driven over pipes."""

    def __init__(self, port: int, tickets: list[str], processes: int, *, record: bool, deflate):
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for index in range(processes):
            share = tickets[index::processes]
            parent, child = context.Pipe()
            process = context.Process(
                target=chat_clients.receivers_main,
                args=(child, port, share, record, "deflate" if deflate else None), daemon=True,
            )  # fmt: skip
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def pids(self) -> set[int]:
        return {process.pid for process in self.processes if process.pid}

    def opened(self, timeout: float = 300.0) -> dict:
        """Wait until every process has opened its sockets: how many opened, refused, seconds."""
        total: dict = {"open": 0, "refused": Counter(), "seconds": 0.0}
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise RuntimeError("receiving sockets were not open in time")
            got = pipe.recv()
            total["open"] += got["open"]
            total["refused"].update(got["refused"])
            total["seconds"] = max(total["seconds"], got["seconds"])
        return total

    def ask(self, command: str, argument=None) -> list:
        for pipe in self.pipes:
            pipe.send((command, argument))
        return [pipe.recv() for pipe in self.pipes]

    async def ask_async(self, command: str, argument=None) -> list:
        return await asyncio.get_running_loop().run_in_executor(None, self.ask, command, argument)

    def close(self) -> None:
        try:
            self.ask("close")
        finally:
            for process in self.processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()


# --- One layer ----------------------------------------------------------------------------------


async def _sender_phase(ws, tally, sent, acks, errors, room: int, size: int, tag: str, args,
                        receivers: Receivers, baseline: int) -> tuple[list[int], int]:  # fmt: skip
    """Send `rate` x `seconds` messages at a fixed rate to a room whose last seq is `baseline`
    (only this sender writes there); wait for their acks and deliveries while they keep coming.
    The seqs every member must receive once (baseline + 1 ...) and the first send (ns); each
    send's time (ns) goes into `sent` under its client_msg_id, for the reader to time its ack."""
    rate = args.rates[size]
    count = max(1, round(rate * args.seconds))
    start = time.monotonic() + 0.2
    first_ns = 0
    for index in range(count):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        now_ns = time.monotonic_ns()
        first_ns = first_ns or now_ns
        frame = {"type": "message.send", "room": room, "client_msg_id": f"{tag}-{index}",
                 "body": f"bench {tag} {index} {now_ns}"}  # fmt: skip
        sent[frame["client_msg_id"]] = now_ns
        await ws.send(json.dumps(frame))
    mine = [f"{tag}-{index}" for index in range(count)]
    # A saturated server is still catching up while deliveries or acks arrive; what has not
    # arrived once nothing has for STALL seconds (or after --drain) is lost.
    wanted, seen, moved = count * size, None, time.monotonic()
    deadline = time.monotonic() + args.drain
    while time.monotonic() - moved < STALL and time.monotonic() < deadline:
        delivered = sum(await receivers.ask_async("progress", room))
        delivered += len(tally.seqs.get(room, []))
        answered = sum(m in acks for m in mine) + sum(errors.values())
        if delivered >= wanted and answered >= count:
            break
        if (delivered, answered) != seen:
            seen, moved = (delivered, answered), time.monotonic()
        await asyncio.sleep(0.1)
    return list(range(baseline + 1, baseline + count + 1)), first_ns


async def _fanout(port: int, master: int, tickets: list[str], rooms: dict, args, groups: dict,
                  result: LayerResult, tag: str) -> None:  # fmt: skip
    """The owner (member of every room) sends; every other member's socket receives in client
    processes; the owner's own socket counts as a member too."""
    receivers = Receivers(port, tickets[1:], args.receiver_processes, record=True,
                          deflate=not args.no_deflate)  # fmt: skip
    groups["clients"] |= receivers.pids()
    try:
        opened = await asyncio.get_running_loop().run_in_executor(None, receivers.opened)
        if opened["open"] != len(tickets) - 1:
            raise RuntimeError(f"receivers: {opened}")
        ws, hello = await chat_clients.open_socket(
            port, tickets[0], compression=None if args.no_deflate else "deflate", resume=True
        )
        shared = chat_clients.Shared()
        baselines = {room["id"]: room["last_seq"] for room in hello["rooms"]}
        tally = chat_clients.Tally(set(baselines), shared)
        sent: dict[str, int] = {}  # client_msg_id -> send time (ns)
        acks: dict[str, int] = {}  # client_msg_id -> send -> ack latency (ns)
        errors: Counter[str] = Counter()

        async def read() -> None:
            async for raw in ws:
                now_ns = time.monotonic_ns()
                frame = json.loads(raw)
                if frame["type"] == "message.ack":
                    acks[frame["client_msg_id"]] = now_ns - sent[frame["client_msg_id"]]
                elif frame["type"] == "error":
                    errors[frame["code"]] += 1
                else:
                    tally.frame(raw, now_ns)

        reader = asyncio.create_task(read())
        result.worker_sockets = sockets_per_worker(master)
        print(f"  {layer_label(result.layer)}: {opened['open'] + 1} member sockets open in "
              f"{opened['seconds']:.1f} s; sockets per worker {result.worker_sockets}",
              flush=True)  # fmt: skip
        for size in args.sizes:
            phase = Phase(size)
            room = rooms[str(size)]
            before = cpu.sample(groups)
            errors.clear()
            seqs, first_ns = await _sender_phase(
                ws,
                tally,
                sent,
                acks,
                errors,
                room,
                size,
                f"{tag}-{size}",
                args,
                receivers,
                baselines[room],
            )
            used = cpu.sample(groups)
            used.subtract(before)
            phase.cpu, phase.sent = used, max(1, round(args.rates[size] * args.seconds))
            ids = [f"{tag}-{size}-{i}" for i in range(phase.sent)]
            phase.ack_latencies = [acks[i] for i in ids if i in acks]
            phase.acked = len(phase.ack_latencies)
            phase.errors = Counter(errors)
            reports = await receivers.ask_async("report", {room: seqs})
            mine = chat_clients.verdicts([tally], {room: seqs})[room]
            last = [r["last"][room] for r in reports if room in r["last"]]
            last += [shared.last[room]] if room in shared.last else []
            for part in [*(r["rooms"][room] for r in reports), mine]:
                phase.members += part["members"]
                phase.deliveries += part["deliveries"]
                phase.missing += part["missing"]
                phase.repeated += part["repeated"]
                phase.disordered += part["disordered"]
                phase.strays += part["strays"]
                phase.closed += part.get("closed", 0)
            for r in reports:
                phase.latencies += r["latencies"][room]
            phase.latencies += shared.latencies.get(room, [])
            phase.seconds = (max(last) - first_ns) / 1e9 if last else 0.0
            tally.seqs.clear()
            shared.reset()
            result.phases[size] = phase
            print(f"  {layer_label(result.layer)} {size:>3} members: {phase.acked}/{phase.sent} "
                  f"acked, {phase.deliveries} deliveries in {phase.seconds:.2f} s = "
                  f"{phase.rate:,.0f}/s, p50 {phase.p(50):.1f} ms, p99 {phase.p(99):.1f} ms, "
                  f"missing {phase.missing}, repeated {phase.repeated}, "
                  f"unknown seqs {phase.strays}, "
                  f"closed {phase.closed}, "
                  f"errors {dict(phase.errors) or 0}", flush=True)  # fmt: skip
        reader.cancel()
        await ws.close()
    finally:
        await asyncio.get_running_loop().run_in_executor(None, receivers.close)


def _idle(port: int, worker: int, tickets: list[str], args, result: LayerResult) -> None:
    """RSS of the worker before and after opening len(tickets) - WARM_SOCKETS idle sockets."""
    deflate = not args.no_deflate
    warm = Receivers(port, tickets[:WARM_SOCKETS], 1, record=False, deflate=deflate)
    warm.opened()
    warm.close()
    time.sleep(1.0)
    before = rss_kib(worker)
    idle = Receivers(port, tickets[WARM_SOCKETS:], args.receiver_processes, record=False,
                     deflate=deflate)  # fmt: skip
    try:
        opened = idle.opened()
        time.sleep(1.0)
        after = rss_kib(worker)
    finally:
        idle.close()
    result.idle_open, result.idle_refused = opened["open"], dict(opened["refused"])
    result.idle_open_seconds, result.idle_rss = opened["seconds"], (before, after)
    result.idle_kib = (after - before) / opened["open"] if opened["open"] else float("nan")
    print(f"  {layer_label(result.layer)}: {opened['open']} idle sockets open in "
          f"{opened['seconds']:.1f} s, refused {result.idle_refused or 0}; worker RSS "
          f"{before / 1024:.1f} -> {after / 1024:.1f} MiB = {result.idle_kib:.1f} KiB each",
          flush=True)  # fmt: skip


def run_layer(env: dict, layer: str, data: dict, tickets: dict, args, folder: Path,
              service_pids: dict) -> LayerResult:  # fmt: skip
    port, result = free_port(), LayerResult(layer)
    log = folder / "logs" / f"asgi-{layer}.log"
    process = app.asgi(env, port, log, workers=1)
    try:
        app.wait_healthy(port, {"asgi": process})
        worker = worker_of(process.pid)
        _idle(port, worker, tickets["idle"], args, result)
        if args.workers > 1:
            # The fan-out on as many workers as the `ws` service runs (WS_WORKERS, 2): the idle
            # figure above is per worker process, the fan-out is per deployment.
            stop({"asgi": process})
            port = free_port()
            process = app.asgi(env, port, log, workers=args.workers)
            app.wait_healthy(port, {"asgi": process})
        groups = {"asgi": {process.pid}, **service_pids, "clients": {os.getpid()}}
        before = cpu.sample(groups)
        asyncio.run(
            _fanout(
                port, process.pid, tickets["fanout"], data["rooms"], args, groups, result, layer
            )
        )
        used = cpu.sample(groups)
        used.subtract(before)
        result.other_share = cpu.other_share(used, GROUPS)
    finally:
        stop({"asgi": process})
    return result


def layer_label(layer: str) -> str:
    return f"{layer:<6}"


def main() -> int:
    parser = argument_parser(__doc__.splitlines()[0], load=False)
    parser.add_argument(
        "--rates",
        default=",".join(f"{k}:{v:g}" for k, v in RATES.items()),
        help="room size:messages per second, ... (10:60,100:60,500:12)",
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="of sending per room (4)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="room sizes")
    parser.add_argument("--rate", type=float, help="one rate for every room size instead")
    parser.add_argument("--idle", type=int, default=TARGET_IDLE, help="idle sockets (1000)")
    parser.add_argument("--layers", default=",".join(LAYERS), help="core,pubsub")
    parser.add_argument("--receiver-processes", type=int, default=1, help="client processes (1)")
    parser.add_argument(
        "--workers", type=int, default=2, help="ASGI workers for the fan-out (2, as WS_WORKERS)"
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=DRAIN_CAP,
        help=f"at most this many s of waiting for deliveries ({DRAIN_CAP:g})",
    )
    parser.add_argument("--no-deflate", action="store_true", help="offer no permessage-deflate")
    args = parser.parse_args()
    args.sizes = sorted({int(size) for size in args.sizes.split(",")})
    layers = [layer for layer in args.layers.split(",") if layer]
    rates = dict(pair.split(":") for pair in args.rates.split(",") if pair)
    args.rates = {size: args.rate or float(rates.get(str(size), 60.0)) for size in args.sizes}
    if set(layers) - set(LAYERS) or not layers or min(args.rates.values()) <= 0:
        parser.error("--layers: core and/or pubsub; rates positive")
    if args.seconds <= 0 or args.idle <= 0 or args.receiver_processes <= 0:
        parser.error("--seconds, --idle and --receiver-processes must be positive")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # servers and clients inherit it
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))

    began = time.monotonic()
    folder = run_dir("logs", "static", "media", "protected")
    try:
        with services(folder) as (postgres, redis):
            url = postgres.app_database("app", "app_user", secrets.token_urlsafe(16))
            base = app.django_env(folder, url, redis.url(), **BENCH_ENV)
            app.manage(base, "migrate", "--noinput")
            call = (
                f"from bench.chat_fixtures import prepare; prepare({args.sizes}, "
                f"{list(HISTORY_SIZES)}, {args.idle + WARM_SOCKETS}, {len(layers)})"
            )
            data = json.loads(app.manage(base, "shell", "-c", call).splitlines()[-1])
            print(
                f"prepared in {data['seconds']} s: {len(data['users'])} users, rooms "
                f"{data['rooms']}; load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            service_pids = {"postgres": {postgres.process.pid}, "redis": {redis.process.pid}}
            results = {}
            for index, layer in enumerate(layers):
                env = {**base, "CHAT_CHANNEL_LAYER": layer, "CHAT_LAYER_PREFIX": f"bench-{layer}"}
                results[layer] = run_layer(env, layer, data, data["runs"][index], args, folder,
                                           service_pids)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    history = {int(size): counts for size, counts in data["history"].items()}
    print_table(results, history, data["layer"], args)
    rows = figures(results, history, data["layer"])
    print(f"(bench.chat ran {time.monotonic() - began:.0f} s)")
    report(args, rows)
    return 0 if all(row.get("verdict", "PASS") == "PASS" for row in rows) else 1


if __name__ == "__main__":
    script_main(main)
