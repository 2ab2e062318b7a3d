"""Design sweeps and tuning: check every combination of a grid of design values, and pick the cheapest that holds.

See ``docs/sweeps.md``.  This package uses :mod:`ordercheck.api` and :mod:`ordercheck.design`; nothing
below it imports it.  Dask is imported only when a scheduler address is given.
"""

from .cost import CostModel
from .grid import Grid, Variant, apply_values, build_variant, load_grid
from .report import pareto_front, sweep_html, sweep_json, sweep_markdown, sweep_text, tune_json, tune_text
from .run import Progress, PropertyRow, SweepResult, Task, VariantResult, run_sweep, run_task
from .tune import Rejected, TuneResult, tune

__all__ = [
    "CostModel", "Grid", "Progress", "PropertyRow", "Rejected", "SweepResult", "Task", "TuneResult", "Variant", "VariantResult",
    "apply_values", "build_variant", "load_grid", "pareto_front", "run_sweep", "run_task", "sweep_html", "sweep_json", "sweep_markdown", "sweep_text",
    "tune", "tune_json", "tune_text",
]
