"""The registry: every scheduler lrlab knows, name -> :class:`~lrlab.specs.SchedulerSpec`.

A plain dict built from the per-library modules; :func:`get_spec` also accepts aliases such as
transformers' ``SchedulerType`` values (``"cosine"``) and is case-insensitive.
"""

from __future__ import annotations

from lrlab import compose
from lrlab.schedulers import hf_specs, torch_specs
from lrlab.specs import LrlabError, SchedulerSpec

SCHEDULERS: dict[str, SchedulerSpec] = {
    spec.name: spec for spec in (*torch_specs.SPECS, *compose.SPECS, *hf_specs.SPECS)
}

_LOOKUP: dict[str, str] = {}
for _spec in SCHEDULERS.values():
    for _key in (_spec.name, *_spec.aliases):
        _LOOKUP[_key.lower()] = _spec.name


def get_spec(name: str) -> SchedulerSpec:
    """The spec for a torch class name, a transformers function name or an alias, or a named error."""
    if isinstance(name, str) and name.strip().lower() in _LOOKUP:
        return SCHEDULERS[_LOOKUP[name.strip().lower()]]
    raise LrlabError(
        f"Unknown scheduler {name!r}: run `python -m lrlab list` for the {len(SCHEDULERS)} known names "
        "(torch class names, transformers function names or SchedulerType values such as 'cosine')",
        field="scheduler",
    )


__all__ = ["SCHEDULERS", "get_spec"]
