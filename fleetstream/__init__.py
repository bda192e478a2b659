"""fleetstream: a live inventory of a large AWS estate over Kafka."""

__version__ = "0.1.0"
