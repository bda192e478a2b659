"""Logging set-up: one line per event, to stderr."""

from __future__ import annotations

import logging


def configure(level: str) -> None:
    """Plain timestamped lines; librdkafka's own chatter only from WARNING up."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("fleetstream.librdkafka").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # A failed AssumeRole is reported once, as the shard's reason; not as a botocore traceback.
    logging.getLogger("botocore.credentials").setLevel(logging.CRITICAL)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
