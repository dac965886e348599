"""Payloads in, Telegram HTML out."""
