"""The throw-away optimizer a curve's scheduler is built on and stepped with.

A learning-rate scheduler reads and writes nothing of its optimizer but ``param_groups`` and
``defaults`` (CyclicLR and OneCycleLR look there for momentum or betas). lrlab builds the torch
optimizer class the config names (SGD, Adam, AdamW, Adagrad) over one tiny parameter per group, as a
subclass that changes two things, neither of which touches the groups:

- ``step()`` does nothing. The parameters never get a gradient, so torch's own step would skip every
  one of them; what matters to the scheduler is that it *is called* (LRScheduler counts the call and
  warns "``lr_scheduler.step()`` before ``optimizer.step()``" otherwise). torch's step imports
  ``torch._dynamo`` on its first call (a graph break for ``torch.compile``): 1.3 s on the 2-core
  machine, as much as ``import torch.optim`` itself, for a call that changes nothing here.
- ``add_param_group``, ``state_dict``, ``load_state_dict`` and ``zero_grad`` are torch's own
  functions, taken from under the ``torch._disable_dynamo`` decorator, whose only job is to keep
  ``torch.compile`` from tracing them and which imports ``torch._dynamo`` on its first call.

So a torch or transformers curve costs ``import torch.optim`` and the stepping, not torch's compiler
(issue 17: ``lrlab curve`` ≤ 1.3 × ``import torch.optim``). The scheduler is torch's (or the library's)
own object, untouched; the tests step the same configs on plain ``torch.optim`` optimizers and compare
every row. Training (the lab, the LR finder, the pitfalls) uses plain optimizers: there the step is real.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import torch

#: Optimizer methods torch wraps in ``torch._disable_dynamo`` (torch 2.13); each is replaced by the
#: function under the wrapper (``__wrapped__``), or kept as it is where a later torch has none.
_UNWRAPPED = ("add_param_group", "state_dict", "load_state_dict", "zero_grad")


def _step(self: torch.optim.Optimizer, closure: Any = None) -> Any:
    """Nothing to update (no parameter has a gradient): the call itself is what the scheduler counts."""
    return None if closure is None else closure()


@functools.cache
def holder_class(base: type[torch.optim.Optimizer]) -> type[torch.optim.Optimizer]:
    """``base`` (a ``torch.optim`` optimizer) with the no-op step and the unwrapped methods above."""
    members: dict[str, Any] = {"step": _step, "__doc__": f"lrlab's throw-away {base.__name__} (lrlab.optimizers)."}
    for name in _UNWRAPPED:
        method = getattr(torch.optim.Optimizer, name)
        members[name] = getattr(method, "__wrapped__", method)
    return type(base.__name__, (base,), members)


def throwaway(name: str, lrs: Sequence[float], *, momentum: float = 0.0, betas: Sequence[float] = (0.9, 0.999)) -> Any:
    """The optimizer ``name`` (``sgd``, ``adam``, ``adamw``, ``adagrad``) over one tiny parameter per
    param group, group ``g`` at ``lrs[g]``: what a scheduler is built on to draw a curve."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    if name in ("adam", "adamw"):
        cls = holder_class(torch.optim.Adam if name == "adam" else torch.optim.AdamW)
        return cls(groups, lr=lrs[0], betas=tuple(betas))
    if name == "adagrad":  # no momentum and no betas: what CyclicLR/OneCycleLR refuse to cycle
        return holder_class(torch.optim.Adagrad)(groups, lr=lrs[0])
    return holder_class(torch.optim.SGD)(groups, lr=lrs[0], momentum=momentum)
