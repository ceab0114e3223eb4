"""Composition root: settings, Prefect flows and the `carbonpeak` CLI.

The only code that reads the environment.
"""
