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


def spans_total(spans: list[Span]) -> float:
    return sum(end - start for start, end in spans)
