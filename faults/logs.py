"""What gunicorn logged since the last look: the exception behind each 500 and gunicorn's own
notices (workers killed, timed out), so a failed invariant names its cause."""

import re
from collections import Counter
from pathlib import Path

SERVER_ERROR = re.compile(r"^Internal Server Error: (\S+)")
CHAIN_HEADERS = ("Traceback (most recent call last):", "During handling", "The above exception")
GUNICORN_NOTICE = re.compile(r"\[(?:ERROR|CRITICAL|WARNING)\] (.*)")


def _final_exception(lines: list[str], start: int) -> str:
    """The last exception line of the (possibly chained) traceback that follows `start`."""
    final = "?"
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not line.strip() or line.startswith((" ", "\t")) or line.startswith(CHAIN_HEADERS):
            continue
        final = line
        following = next((rest for rest in lines[index + 1 :] if rest.strip()), "")
        if not following.startswith(CHAIN_HEADERS):
            break
    return final[:200]


class LogWatch:
    def __init__(self, stack):
        self.paths = sorted(Path(stack.run_dir, "logs").glob("gunicorn-*.log"))
        self.offsets = {path: 0 for path in self.paths}

    def news(self) -> tuple[Counter, Counter]:
        """(path + exception of each 500, gunicorn notices with pids masked) since last call."""
        errors, notices = Counter(), Counter()
        for path in self.paths:
            with path.open(errors="replace") as log:
                log.seek(self.offsets[path])
                text = log.read()
                self.offsets[path] = log.tell()
            lines = text.splitlines()
            for index, line in enumerate(lines):
                if match := SERVER_ERROR.match(line):
                    errors[f"{match[1]}: {_final_exception(lines, index)}"] += 1
                elif match := GUNICORN_NOTICE.search(line):
                    notices[re.sub(r"\d+", "N", match[1])] += 1
        return errors, notices

    def print_news(self) -> None:
        errors, notices = self.news()
        for line, count in errors.most_common():
            print(f"  gunicorn log, 500 x{count}: {line}")
        for line, count in notices.most_common(5):
            print(f"  gunicorn log x{count}: {line}")
