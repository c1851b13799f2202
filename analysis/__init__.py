"""Sensitivity analysis with SALib on the experiments engine, and reports (docs/sensitivity.md).

    from analysis import problem, sensitivity
    p = problem.load("staffing_funding_influx")
    result = sensitivity.run(p, "sobol", 64, "results/sensitivity", workers=2)
    result.indices      # output, parameter, S1, S1_conf, ST, ST_conf

    from analysis import write_report
    write_report("results/sensitivity")   # one self-contained HTML page (docs/experiments.md)
"""

__all__ = ["write_report"]


def __getattr__(name: str):
    """``write_report`` is imported on first use: the reports pull in SALib, SciPy and
    matplotlib, which every `run.py` command would otherwise load at start-up (~0.6 s)."""
    if name == "write_report":
        from .reports import write_report

        return write_report
    raise AttributeError(f"module 'analysis' has no attribute '{name}'")
