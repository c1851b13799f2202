"""Agents of the model: residents (array-backed), property firms, grid workers, party branches,
couriers and riders."""

from .courier import Courier
from .grid_worker import GridWorker
from .party_branch import PartyBranch
from .property_firm import PropertyFirm
from .resident import Resident

__all__ = ["Courier", "GridWorker", "PartyBranch", "PropertyFirm", "Resident"]
