"""Kafka: client configs (topics, producers, consumers), admin calls, auth, ACLs, MSK."""
