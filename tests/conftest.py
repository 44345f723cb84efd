"""Shared test settings."""

import os

# app.py turns a crash into a friendly message for visitors; in tests a crash must fail the test
# (AppTest sees the exception, and the e2e server, started from this process, inherits the setting).
os.environ["LRLAB_DEBUG"] = "1"
# app.py loads timm, Keras, optax and fastai in a background thread after its first run (a server's
# warm-up); in tests each library loads when a test uses it (tests/test_serving.py tests the warm-up).
os.environ["LRLAB_WARM_LIBRARIES"] = "0"
