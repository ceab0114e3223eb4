"""Composition root: settings, Prefect flows and the `carbonpeak` CLI (the only code reading the environment)."""
