"""The throw-away optimizer a curve's scheduler is built on and stepped with.

A learning-rate scheduler reads and writes nothing of its optimizer but ``param_groups`` and
``defaults`` (CyclicLR and OneCycleLR look there for momentum or betas). lrlab builds the torch
optimizer class the config names (SGD, Adam, AdamW, Adagrad) over one tiny parameter per group, with
five of its methods replaced on the instance (never on the class), none of which touches the groups:

- ``step()`` does nothing. The parameters never get a gradient, so torch's own step would skip every
  one of them; what matters to the scheduler is that it *is called* (LRScheduler counts the call and
  warns "``lr_scheduler.step()`` before ``optimizer.step()``" otherwise). torch's step imports
  ``torch._dynamo`` on its first call (a graph break for ``torch.compile``): 1.3 s on the 2-core
  machine, as much as ``import torch.optim`` itself, for a call that changes nothing here.
- ``add_param_group``, ``state_dict``, ``load_state_dict`` and ``zero_grad`` are torch's own
  functions, taken from under the ``torch._disable_dynamo`` decorator, whose only job is to keep
  ``torch.compile`` from tracing them and which imports ``torch._dynamo`` on its first call.

The object stays an instance of the real class (``type(opt) is torch.optim.SGD``): a subclass would
join ``torch.optim.Optimizer.__subclasses__()`` for the whole process, where tools that find
optimizers by name look (Lightning's CLI refused ``--optimizer SGD`` as ambiguous once lrlab had
drawn a curve).

So a torch or transformers curve costs ``import torch.optim`` and the stepping, not torch's compiler
(issue 17: ``lrlab curve`` ≤ 1.3 × ``import torch.optim``). The scheduler is torch's (or the library's)
own object, untouched; the tests step the same configs on plain ``torch.optim`` optimizers and compare
every row. Training (the lab, the LR finder, the pitfalls) uses plain optimizers: there the step is real.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from lrlab.specs import ScheduleConfig

#: Optimizer methods torch wraps in ``torch._disable_dynamo`` (torch 2.13); each is replaced by the
#: function under the wrapper (``__wrapped__``), or kept as it is where a later torch has none.
_UNWRAPPED = ("add_param_group", "state_dict", "load_state_dict", "zero_grad")


def _step(self: torch.optim.Optimizer, closure: Any = None) -> Any:
    """Nothing to update (no parameter has a gradient): the call itself is what the scheduler counts."""
    return None if closure is None else closure()


def _built(cls: type[torch.optim.Optimizer], groups: list[dict[str, Any]], **defaults: Any) -> Any:
    """``cls(groups, **defaults)`` with the no-op step and the unwrapped methods bound on the instance
    before ``__init__`` runs (``__init__`` itself calls ``add_param_group``)."""
    optimizer = cls.__new__(cls)
    for name in _UNWRAPPED:
        method = getattr(torch.optim.Optimizer, name)
        setattr(optimizer, name, types.MethodType(getattr(method, "__wrapped__", method), optimizer))
    optimizer.step = types.MethodType(_step, optimizer)  # a bound method: LRScheduler wraps its __func__
    cls.__init__(optimizer, groups, **defaults)
    return optimizer


def throwaway(config: ScheduleConfig, lrs: Sequence[float]) -> Any:
    """``config.optimizer`` (``sgd``, ``adam``, ``adamw``, ``adagrad``, with the config's momentum or
    betas) over one tiny parameter per param group, group ``g`` at ``lrs[g]``: what a scheduler is built
    on to draw a curve."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    if config.optimizer in ("adam", "adamw"):
        cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
        return _built(cls, groups, lr=lrs[0], betas=tuple(config.betas))
    if config.optimizer == "adagrad":  # no momentum and no betas: what CyclicLR/OneCycleLR refuse to cycle
        return _built(torch.optim.Adagrad, groups, lr=lrs[0])
    return _built(torch.optim.SGD, groups, lr=lrs[0], momentum=config.momentum)
