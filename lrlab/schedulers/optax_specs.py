"""optax schedules (stub: filled in by the optax adapter work)."""

from __future__ import annotations

from lrlab.specs import SchedulerSpec

SPECS: tuple[SchedulerSpec, ...] = ()
