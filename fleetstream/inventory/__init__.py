"""The inventory: its DynamoDB tables (tables and indexes, sweep records, reads, reports), and
the inventory as data (Parquet snapshots of the table, SQL over them, search and history).

Floors: this package reads the inventory table, the changes topic (fleetstream.serde) and the
catalog; it never imports a consumer or producer group.
"""
