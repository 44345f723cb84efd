"""keras schedules (stub: filled in by the keras adapter work)."""

from __future__ import annotations

from lrlab.specs import SchedulerSpec

SPECS: tuple[SchedulerSpec, ...] = ()
