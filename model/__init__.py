"""The model: parameters, the district generator, the neighbour network, the daily processes
(one module each), metrics and outputs. ``GovernanceModel`` is imported lazily so that the
agents package can use the vocabulary without a circular import."""

from .params import ParameterError, Params, make_params

__all__ = ["GovernanceModel", "ParameterError", "Params", "make_params"]


def __getattr__(name: str):
    if name == "GovernanceModel":
        from .model import GovernanceModel

        return GovernanceModel
    raise AttributeError(name)
