"""Prefect flows, one per file, and their deployments and settings: they only wire.

The only code that reads the environment (flows/settings.py); the CLI is cli/.
"""
