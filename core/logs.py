"""JSON log lines for a log collector (LOG_FORMAT=json, production's default; LOGGING in
config/settings/base.py): one object per line with the time, level, logger and request id
(core.request_id). JSON escapes newlines, so neither a message nor a traceback can spill into
lines of its own or forge another entry."""

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        status_code = getattr(record, "status_code", None)  # django.request's records have one
        if status_code is not None:
            entry["status_code"] = status_code
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
