"""The footing every room stands on: errors, domain models, settings, logs, retry, metrics."""
