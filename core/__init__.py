"""What every package shares: the root error and secret redaction."""
