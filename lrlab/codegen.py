"""Python source for a torch scheduler built from its spec: the code exports and compositions share.

It depends on the specs only, so that :mod:`lrlab.compose` (whose composites write their children's
code) and :mod:`lrlab.export` (whole scripts) both use it without importing each other.
"""

from __future__ import annotations

from typing import Any

from lrlab.specs import RunContext, SchedulerSpec


def literal(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


def constructor(spec: SchedulerSpec, params: dict[str, Any], ctx: RunContext) -> str:
    """Source that assigns the configured scheduler to ``scheduler`` (``optimizer`` must exist)."""
    if spec.code is not None:
        return spec.code(params, ctx)
    kwargs = ", ".join(f"{k}={literal(v)}" for k, v in params.items() if v is not None)
    prefix = "lr_scheduler." if spec.library == "torch" else ""
    return f"scheduler = {prefix}{spec.name}(optimizer{', ' if kwargs else ''}{kwargs})"
