"""Shared test settings."""

import os

# app.py turns a crash into a friendly message for visitors; in tests a crash must fail the test
# (AppTest sees the exception, and the e2e server, started from this process, inherits the setting).
os.environ["LRLAB_DEBUG"] = "1"
