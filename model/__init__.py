"""The model: parameters, the district generator, the neighbour network, the daily processes
(one module each), metrics and outputs. ``GovernanceModel`` and ``run_model`` are imported
lazily so that the agents package can use the vocabulary without a circular import."""

from .params import ParameterError, Params, make_params

__all__ = ["GovernanceModel", "ParameterError", "Params", "make_params", "run_model"]


def __getattr__(name: str):
    if name in ("GovernanceModel", "run_model"):
        from . import model

        return getattr(model, name)
    raise AttributeError(name)
