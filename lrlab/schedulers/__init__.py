"""The registry: every scheduler lrlab knows, name -> :class:`~lrlab.specs.SchedulerSpec`.

A plain dict built from the per-library adapter modules (one per library: its specs and how that
library is driven). None of them imports its library at import time: timm, Keras, jax/optax and fastai
load on first use of one of their schedules. torch and transformers names are unqualified
(``StepLR``, ``get_cosine_schedule_with_warmup``); the other libraries' are ``library:Name``
(``keras:CosineDecay``). :func:`get_spec` also accepts ``torch:StepLR``, aliases such as
transformers' ``SchedulerType`` values (``"cosine"``), and is case-insensitive.
"""

from __future__ import annotations

from lrlab import compose
from lrlab.schedulers import fastai_specs, hf_specs, keras_specs, optax_specs, timm_specs, torch_specs
from lrlab.specs import LrlabError, SchedulerSpec

SCHEDULERS: dict[str, SchedulerSpec] = {
    spec.name: spec
    for spec in (
        *torch_specs.SPECS,
        *compose.SPECS,
        *hf_specs.SPECS,
        *timm_specs.SPECS,
        *keras_specs.SPECS,
        *optax_specs.SPECS,
        *fastai_specs.SPECS,
    )
}

_LOOKUP: dict[str, str] = {}
for _spec in SCHEDULERS.values():
    for _key in (_spec.name, *_spec.aliases):
        _LOOKUP[_key.lower()] = _spec.name
    if ":" not in _spec.name:  # torch:StepLR, transformers:get_cosine_schedule_with_warmup
        _LOOKUP[f"{_spec.library}:{_spec.name}".lower()] = _spec.name


def get_spec(name: str) -> SchedulerSpec:
    """The spec for a torch class name, a transformers function name or an alias, or a named error."""
    if isinstance(name, str) and name.strip().lower() in _LOOKUP:
        return SCHEDULERS[_LOOKUP[name.strip().lower()]]
    raise LrlabError(
        f"Unknown scheduler {name!r}: run `python -m lrlab list` for the {len(SCHEDULERS)} known names "
        "(torch class names, transformers function names or SchedulerType values such as 'cosine'; "
        "the other libraries' as library:Name, e.g. 'keras:CosineDecay', 'optax:warmup_cosine_decay_schedule')",
        field="scheduler",
    )


__all__ = ["SCHEDULERS", "get_spec"]
