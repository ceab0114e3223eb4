"""Alerts: what to tell, in which words, over which channel, and what was told to whom.

The rules that decide what to tell (send.py), the words (messages.py), the channels that carry
them (channels.py), and the record of what was told to whom (state.py, owed.py).
"""
