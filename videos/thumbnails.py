"""The layout of a video's seek-thumbnail sprite and the WebVTT file that points players into it.

Pure arithmetic and text: videos.transcoding runs ffmpeg with `sprite_filter` and writes `vtt`.
"""

import math
from dataclasses import dataclass

SPRITE = "thumbnails.jpg"
VTT = "thumbnails.vtt"
MAX_TILES = 100
TILE_WIDTH = 160
COLUMNS = 10


@dataclass(frozen=True)
class SpritePlan:
    interval: int  # seconds between tiles
    count: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int

    def tile_box(self, index: int) -> tuple[int, int, int, int]:
        """x, y, width, height of a tile: ffmpeg's tile filter fills the sheet row by row."""
        row, column = divmod(index, self.columns)
        return column * self.tile_width, row * self.tile_height, self.tile_width, self.tile_height


def sprite_plan(*, duration: float, width: int, height: int) -> SpritePlan:
    """One tile every whole number of seconds, at most MAX_TILES of them.

    The count rounds the last partial interval half down, so the last tile starts at least half
    an interval before the end: a frame always exists for it (rounding up could ask for a tile
    a few milliseconds before the end, which the video may have no frame for, leaving it black).
    The tile height is computed here rather than by ffmpeg (`scale=160:-2`) so the cues and the
    sheet cannot disagree on it.
    """
    interval = max(1, math.ceil(duration / MAX_TILES))
    count = max(1, math.ceil(duration / interval - 0.5))
    columns = min(COLUMNS, count)
    tile_height = max(2, round(TILE_WIDTH * height / width / 2) * 2)
    return SpritePlan(
        interval=interval,
        count=count,
        columns=columns,
        rows=math.ceil(count / columns),
        tile_width=TILE_WIDTH,
        tile_height=tile_height,
    )


def sprite_filter(plan: SpritePlan) -> str:
    """The first frame at or after each multiple of the interval, scaled and tiled into one image.

    `select` on the timestamp (rather than `fps=1/N`) takes exactly one frame per interval,
    whatever the source's frame rate, so the sheet holds the tiles the cues name.
    """
    return (
        f"select=gte(t\\,selected_n*{plan.interval}),"
        f"scale={plan.tile_width}:{plan.tile_height},setsar=1,"
        f"tile={plan.columns}x{plan.rows}"
    )


def vtt(plan: SpritePlan, *, duration: float) -> str:
    """Cues back to back from 0 to the end, the last one stretched to the duration."""
    lines = ["WEBVTT", ""]
    for index in range(plan.count):
        start = index * plan.interval
        end = duration if index == plan.count - 1 else (index + 1) * plan.interval
        x, y, w, h = plan.tile_box(index)
        lines += [
            f"{_timestamp(start)} --> {_timestamp(end)}",
            f"{SPRITE}#xywh={x},{y},{w},{h}",
            "",
        ]
    return "\n".join(lines)


def _timestamp(seconds: float) -> str:
    milliseconds = round(seconds * 1000)
    hours, milliseconds = divmod(milliseconds, 3_600_000)
    minutes, milliseconds = divmod(milliseconds, 60_000)
    return f"{hours:02d}:{minutes:02d}:{milliseconds // 1000:02d}.{milliseconds % 1000:03d}"
