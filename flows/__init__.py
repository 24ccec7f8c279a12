"""Prefect flows and the CLI: they wire the tasks together and hold no business logic."""
