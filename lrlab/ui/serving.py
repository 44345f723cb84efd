"""What one Streamlit process serving a class needs beyond Streamlit's defaults, set once per process by
``app.py``: the start-up objects frozen out of the garbage collector's reach, Streamlit's per-run Keras
reset and theme rebuild replaced, and the optional libraries loaded in the background after the first
page. Each is measured in docs/load-report.md and tested in tests/test_serving.py; ``import lrlab``
and the CLI never run any of it.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
from typing import Any

from streamlit import config
from streamlit.runtime import app_session
from streamlit.runtime.scriptrunner import script_runner

_frozen = False


def freeze_startup_objects() -> None:
    """Move everything alive after the first imports (torch, transformers: ~285k objects) out of the
    garbage collector's reach, once per process (``gc.freeze``). Each full collection otherwise walks
    them all while holding the GIL every session needs (measured 243–322 ms; 0 ms once frozen)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def keep_keras_state() -> bool:
    """Stop Streamlit from resetting Keras after every script run, once per process; True once done.

    After each run of any session, Streamlit's script runner calls ``keras.backend.clear_session()``
    as soon as ``keras`` is in ``sys.modules`` (``script_runner._clean_problem_modules``, meant for
    TensorFlow's global graph). On Keras 3 that is a full ``gc.collect()`` plus, on the torch backend,
    ``torch._dynamo.reset()``: measured with ``bench/load.py``, once one student had drawn a Keras
    schedule it was 85 % of the server's CPU, and every rerun of every session waited for it (30
    students: p95 13 s). lrlab creates no Keras state to clear: its Keras objects are schedules and
    one optimizer per curve, and Keras keeps its global state per thread (``threading.local``), which
    ends with each run's script thread. Streamlit's other clean-up, closing matplotlib's figures, is
    kept. ``tests/test_serving.py`` checks the hook still exists in the installed Streamlit and that a
    rerun after a Keras curve leaves Keras's state alone."""
    if getattr(script_runner._clean_problem_modules, "_lrlab", False):
        return True
    if not callable(getattr(script_runner, "_clean_problem_modules", None)):
        return False

    def clean_problem_modules() -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")

    clean_problem_modules._lrlab = True  # type: ignore[attr-defined]
    clean_problem_modules.streamlit_original = script_runner._clean_problem_modules  # type: ignore[attr-defined]
    script_runner._clean_problem_modules = clean_problem_modules
    return True


def cache_theme_messages() -> bool:
    """Build Streamlit's theme messages once per configuration instead of on every script run, once
    per process; True once done.

    Every run, fragment reruns included, starts with a new-session message whose six theme sections
    Streamlit fills by scanning all ~370 config options per section under the config lock
    (``app_session._populate_theme_msg``): 4–9 ms of server CPU per input under load
    (bench/profile_rerun.py, py-spy). The theme can only change when the config is parsed again,
    which gives ``config.get_config_options()`` a new dict: each section's message is cached per
    that dict and merged in as Streamlit would have written it (an empty one is not touched, as
    Streamlit leaves it). ``tests/test_serving.py`` compares every section with Streamlit's own."""
    populate = getattr(app_session, "_populate_theme_msg", None)
    if getattr(populate, "_lrlab", False):
        return True
    if not callable(populate):
        return False
    built: dict[tuple[str, int], Any] = {}

    def populate_theme_msg(msg: Any, section: str = "theme") -> None:
        key = (section, id(config.get_config_options()))
        cached = built.get(key)
        if cached is None:
            if len(built) > 64:  # the config was parsed again many times: forget the old ones
                built.clear()
            cached = type(msg)()
            populate(cached, section)
            built[key] = cached
        if cached.ByteSize():
            msg.MergeFrom(cached)

    populate_theme_msg._lrlab = True  # type: ignore[attr-defined]
    populate_theme_msg.streamlit_original = populate  # type: ignore[attr-defined]
    app_session._populate_theme_msg = populate_theme_msg
    return True


#: Set to 0 to keep every library lazy in the server too (the warm-up of :func:`warm_libraries`).
WARM_ENV = "LRLAB_WARM_LIBRARIES"
#: Seconds without a page run before the warm-up loads the next library (a second visitor arriving just
#: after the first is served first) ...
IDLE_S = 3.0
#: ... but a class that never pauses gets it this many seconds after the first page at the latest.
MAX_WAIT_S = 30.0
_last_run = time.monotonic()
_warm_lock = threading.Lock()
_warm_thread: threading.Thread | None = None
_log = logging.getLogger("lrlab")


def warm_libraries() -> threading.Thread | None:
    """Load timm, Keras, optax (jax) and fastai in the background after the server's first page run,
    once per process, so that no visitor waits for them mid-class; the thread, or None if disabled.

    A library's first use costs seconds of imports (Keras ~6 s, jax, fastai) during which the
    process's one GIL serves every session slowly: under 30 students, one first Keras curve held
    every rerun of every student for its import (bench/load.py: p95 from ~1 s to 5–10 s). Here each
    library draws one 10-step curve of its first schedule through :func:`lrlab.simulate.simulate`
    (imports, backend start, the first jit), one library at a time, each after no page run has started
    or ended for :data:`IDLE_S` (or :data:`MAX_WAIT_S` after the first page at the latest); then the
    new objects are frozen out of the collector's reach as at start-up (:func:`freeze_startup_objects`).
    ``import lrlab`` and the CLI stay lazy: only app.py calls this. ``LRLAB_WARM_LIBRARIES=0`` turns
    it off (a single user who never leaves torch)."""
    global _warm_thread
    note_run()
    if not warm_enabled():
        return None
    with _warm_lock:
        if _warm_thread is None:
            _warm_thread = threading.Thread(target=_warm, name="lrlab-warm-libraries", daemon=True)
            _warm_thread.start()
    return _warm_thread


def warm_enabled() -> bool:
    """Whether the server warms the libraries: unless :data:`WARM_ENV` says 0, false, no or off."""
    return os.environ.get(WARM_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def note_run() -> None:
    """A page run starts or ends (app.py calls this at both): the warm-up waits for a quiet moment."""
    global _last_run
    _last_run = time.monotonic()


def _warm() -> None:
    from lrlab import SCHEDULERS
    from lrlab.simulate import simulate
    from lrlab.specs import ScheduleConfig

    first: dict[str, str] = {}
    for name, spec in SCHEDULERS.items():
        if spec.library not in ("torch", "transformers") and spec.unavailable() is None:
            first.setdefault(spec.library, name)
    t0, done = time.monotonic(), []
    for library, name in first.items():
        while time.monotonic() - _last_run < IDLE_S and time.monotonic() - t0 < MAX_WAIT_S:
            time.sleep(IDLE_S / 8)
        try:
            simulate(ScheduleConfig.make(name, {}, steps=10))
            done.append(library)
        except Exception:  # a broken install is the visitor's to see on its page, with its message
            _log.warning("warming %s failed", library, exc_info=True)
    gc.freeze()
    print(  # the server's log (bench/load.py waits for this line before it measures a class)
        f"lrlab: libraries loaded in the background ({', '.join(done) or 'none installed'}) "
        f"in {time.monotonic() - t0:.1f} s",
        file=sys.stderr,
        flush=True,
    )
