"""A what-if dashboard for policymakers: Mesa's SolaraViz on 127.0.0.1, needing nothing from
the internet (``python run.py dashboard``, docs in README.md, "Dashboard").

- ``dashboard.levers``: the controls, built from the parameter schema (labels, ranges,
  choices) and checked by it, so a bad combination gets the schema's own message;
- ``dashboard.views``: what the page shows, as plain numbers and figures of a model (the
  district map, KPI cards, monthly series by street, the paired comparison with the baseline);
- ``dashboard.app``: the Solara page around ``mesa.visualization.SolaraViz``;
- ``dashboard.server``: starts the Solara server (port check, offline settings, Ctrl-C).

Only ``dashboard.server`` is imported by the command line, and it imports Solara only when
the server starts: the rest of the project works without the ``[dashboard]`` extra.
"""
