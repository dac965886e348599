"""Webhooks in: verify, store, acknowledge."""
