"""AWS: the client factory (assumed roles, rate limits), error classes, metrics, accounts."""
