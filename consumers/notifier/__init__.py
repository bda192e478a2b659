"""The notifier consumer group: a digest of the change stream posted to a webhook."""
