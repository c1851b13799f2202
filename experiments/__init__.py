"""Experiments on the model: sweeps with replicates on local processes or a Dask cluster,
a resumable result store, the staffing-allocation comparison and the budget split
(docs/experiments.md).

    import experiments
    runs = experiments.sweep("baseline", vary=["staffing_per_10k=18,24.5,43.9"], replicates=5)
    table = experiments.aggregate(runs, ["staffing_per_10k"])

Worker processes import this package too: scipy and matplotlib are imported only where
intervals are computed and figures drawn.
"""

from .aggregate import aggregate, mean_ci
from .budget import compare_budget
from .designs import factorial, parse_vary, read_design
from .staffing_allocation import compare_staffing
from .sweep import run_sets, sweep

__all__ = ["aggregate", "compare_budget", "compare_staffing", "factorial", "mean_ci", "parse_vary",
           "read_design", "run_sets", "sweep"]
