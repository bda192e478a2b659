"""The inventory tables in DynamoDB: tables and indexes, sweep records, reads and reports."""
