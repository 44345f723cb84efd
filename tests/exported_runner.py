"""Runs exported snippets in a fresh interpreter: `python tests/exported_runner.py < jobs.json`.

Each job is {"target": "torch" | "transformers" | "lightning" | "timm" | "keras" | "optax" | "fastai", "code": ..., "steps": N,
"steps_per_epoch": K}; the output (stdout, JSON) is the lr of every optimizer step for each job, or
{"error": ...}. Our own generated code is executed here, never user text.

A PyTorch script runs its own ``train()`` (which may stop early where the library refuses a step);
a transformers snippet is stepped like the Trainer steps it, for its ``max_steps`` where it sets one;
a LightningModule is fitted for ``steps`` optimizer steps (it may stop itself early).
"""

import inspect
import json
import sys
import types

import torch


def run_torch(code: str, steps: int, spe: int) -> list[float]:
    module = types.ModuleType("exported")  # imported as a module: building the objects trains nothing
    exec(compile(code, "<exported>", "exec"), module.__dict__)
    scheduler = getattr(module, "scheduler", None) or module.plateau  # WarmupThenPlateau: warmup + plateau
    assert module.optimizer.param_groups[0]["lr"] is not None and scheduler is not None
    return module.train()


def run_transformers(code: str, steps: int, spe: int) -> list[float]:
    if "def train(" in code:  # not expressible with the Trainer: the snippet is the PyTorch loop
        return run_torch(code, steps, spe)
    namespace: dict = {}
    code = code.replace('output_dir="out"', 'output_dir="/tmp/lrlab-exported", report_to=[]')
    exec(compile(code.split("trainer = Trainer(")[0], "<exported>", "exec"), namespace)
    opt, scheduler = namespace["optimizer"], namespace["scheduler"]
    needs_metric = "metrics" in inspect.signature(scheduler.step).parameters  # ReduceLROnPlateau, GreedyLR
    lrs = []
    for _ in range(namespace.get("max_steps", steps)):  # the snippet's bound where the library refuses a step
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step(1.0) if needs_metric else scheduler.step()
    return lrs


def run_lightning(code: str, steps: int, spe: int) -> list[float]:
    import lightning as L

    namespace: dict = {}
    exec(compile(code, "<exported>", "exec"), namespace)
    seen: list[float] = []

    class Record(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.append(trainer.optimizers[0].param_groups[0]["lr"])

    trainer = L.Trainer(
        max_steps=steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[Record()],
        accelerator="cpu",
    )
    trainer.fit(namespace["Model"](), torch.utils.data.DataLoader(torch.randn(spe, 10), batch_size=1))
    return seen


def run_script(code: str, steps: int, spe: int) -> list[float]:
    """A library's own idiom (timm, Keras, optax, fastai): the script's ``train()`` returns the lrs."""
    module = types.ModuleType("exported")
    exec(compile(code, "<exported>", "exec"), module.__dict__)
    return [float(v) for v in module.train()]


RUNNERS = {
    "torch": run_torch,
    "transformers": run_transformers,
    "lightning": run_lightning,
    **{library: run_script for library in ("timm", "keras", "optax", "fastai")},
}

if __name__ == "__main__":
    results = []
    for job in json.load(sys.stdin):
        try:
            results.append(RUNNERS[job["target"]](job["code"], job["steps"], job["steps_per_epoch"]))
        except Exception as exc:  # reported to the test, which fails on it
            results.append({"error": f"{type(exc).__name__}: {exc}"})
    json.dump(results, sys.stdout)
