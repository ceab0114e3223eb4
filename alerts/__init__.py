"""Alerts: the rules that decide what to tell (send.py), the words (messages.py), the channels
that carry them (channels.py), and what was told to whom (state.py, owed.py)."""
