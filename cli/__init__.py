"""The `carbonpeak` command line: cli/main.py assembles the commands of cli/<group>.py."""
