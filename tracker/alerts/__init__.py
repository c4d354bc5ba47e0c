"""Alerts that are never lost or sent twice: targets, the outbox, messages and sending."""
