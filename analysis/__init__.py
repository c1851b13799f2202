"""Sensitivity analysis with SALib on the experiments engine, and reports (docs/sensitivity.md).

    from analysis import problem, sensitivity
    p = problem.load("staffing_funding_influx")
    result = sensitivity.run(p, "sobol", 64, "results/sensitivity", workers=2)
    result.indices      # output, parameter, S1, S1_conf, ST, ST_conf

    from analysis import write_report
    write_report("results/sensitivity")   # one self-contained HTML page (docs/experiments.md)
"""

from .reports import write_report

__all__ = ["write_report"]
