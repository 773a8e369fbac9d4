"""Watched time as a union of [from, to) spans: re-watching a part counts it once."""

Span = list[float]


def spans_add(spans: list[Span], new: tuple[float, float]) -> list[Span]:
    """The sorted, disjoint union of `spans` and `new` (touching spans merge)."""
    merged: list[Span] = []
    for start, end in sorted([*spans, list(new)]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def spans_add_within(spans: list[Span], new: tuple[float, float], *, new_seconds: float):
    """The union of `spans` and the earliest parts of `new` not yet in them, up to `new_seconds`
    of them: what was watched before costs nothing, and the rest of `new` is dropped."""
    start, end = new
    cursor, remaining = start, new_seconds
    pieces: list[tuple[float, float]] = []
    for covered_start, covered_end in [*sorted(spans), [end, end]]:
        if remaining <= 0 or cursor >= end:
            break
        if covered_end <= cursor:
            continue
        gap_end = min(covered_start, end)
        if gap_end > cursor:
            taken = min(gap_end, cursor + remaining)
            pieces.append((cursor, taken))
            remaining -= taken - cursor
        cursor = max(cursor, covered_end)
    for piece in pieces:
        spans = spans_add(spans, piece)
    return [list(span) for span in spans]


def spans_total(spans: list[Span]) -> float:
    return sum(end - start for start, end in spans)
