"""Bytes on the topics: the Avro codec, the schema registry framing, and the wire functions."""
