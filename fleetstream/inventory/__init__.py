"""The inventory as data: Parquet snapshots of the table, SQL over them, search and history.

Floors: this package reads the inventory table (fleetstream.dynamodb's layout), the changes
topic (fleetstream.wire) and the catalog; it never imports a consumer or producer group.
"""
