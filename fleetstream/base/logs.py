"""Logging set-up: text lines on a terminal, one JSON object per line otherwise."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """One JSON object per record: what log pipelines (CloudWatch, Loki) parse without rules."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as a single JSON line."""
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def wants_json(stream: object = sys.stderr) -> bool:
    """FLEETSTREAM_LOG_FORMAT=json|text decides; otherwise JSON unless writing to a terminal."""
    chosen = os.environ.get("FLEETSTREAM_LOG_FORMAT", "").lower()
    if chosen in {"json", "text"}:
        return chosen == "json"
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


def configure(level: str) -> None:
    """Set up the root logger; librdkafka's own chatter only from WARNING up."""
    handler = logging.StreamHandler()
    if wants_json():
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    logging.getLogger("fleetstream.librdkafka").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # A failed AssumeRole is reported once, as the shard's reason; not as a botocore traceback.
    logging.getLogger("botocore.credentials").setLevel(logging.CRITICAL)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
