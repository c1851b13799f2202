"""Channel choice (诉求渠道): where a resident takes a dispute or demand — the building head,
the grid worker, the compound party branch, the community, the 12345 hotline, or silence —
by a multinomial logit over trust (the resident's satisfaction), access and the kind of case.

Utilities are assumptions in the spirit of the grievance model (Epstein 2002): low trust and
youth push toward the hotline; the elderly stay silent rather than 'cause trouble' (P8);
channels that do not exist in a building or compound are unavailable.

Word of mouth (``word_of_mouth_weight``): residents hear how their neighbours' last cases
ended. Each reporting channel's utility gains ``word_of_mouth_weight × (mean score −
word_of_mouth_neutral)`` over the resident's neighbours whose last closed case went through
that channel within ``word_of_mouth_days`` (the mean weighted by tie weight: kin count double);
a channel no neighbour used recently gains nothing. Silence has no result to tell about.
"""

from __future__ import annotations

import numpy as np

from .network import neighbour_pairs
from .params import derived
from .vocabulary import (
    AGE_GROUPS,
    CHANNELS,
    IS_DEPARTMENT,
    IS_ENFORCEMENT,
    IS_MEDIATED,
    KINDS,
    ORIGINS,
    A,
    C,
    K,
    O,
    member_table,
)

RESIDENT_CHANNELS = ("silence", "building_head", "grid_worker", "compound_branch", "community",
                     "hotline")
CODES = np.array([C[c] for c in RESIDENT_CHANNELS])
# The utility column of each channel code (-1: not a resident's channel, e.g. probes).
COLUMN = np.full(len(CHANNELS), -1, np.int64)
COLUMN[CODES] = np.arange(len(CODES))
# Couriers and riders: hotline, grid worker or silence (assumption); enrolled as special grid
# workers (policy 6) they report through the grid.
COURIER_CHANNELS = np.array([C["silence"], C["grid_worker"], C["hotline"]])
# Origins that keep quieter: newcomers and visitors (assumption, as the silence utility says).
IS_NEWCOMER = member_table((O["outsider"], O["rural_migrant"], O["seasonal"]), len(ORIGINS))
# The traits that set a case's utilities besides trust, with their number of values: the
# resident's age group, party membership, being a newcomer, a building head in the building
# and a party branch in the compound, and the kind of case. A case's row in the table is its
# cell in this grid.
YES_NO = (False, True)
TRAITS = (("age", len(AGE_GROUPS)), ("party", len(YES_NO)), ("newcomer", len(YES_NO)),
          ("head", len(YES_NO)), ("branch", len(YES_NO)), ("kind", len(KINDS)))
HOTLINE_COLUMN = RESIDENT_CHANNELS.index("hotline")


def utilities(model, residents: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Utility of each channel (columns as RESIDENT_CHANNELS) for each new case: the part
    set by the resident's traits and the kind (looked up in a table of every combination),
    plus distrust pushing toward the hotline and word of mouth."""
    p = model.p
    u = derived(p, "channel_utilities", _trait_table)[_trait_cell(model, residents, kinds)]
    u[:, HOTLINE_COLUMN] += p.util_hotline_distrust * (p.util_hotline_trust_neutral
                                                       - model.satisfaction[residents])
    if p.word_of_mouth_weight:
        u += p.word_of_mouth_weight * word_of_mouth(model, residents)
    return u


def _trait_cell(model, residents: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    d = model.district
    values = (d.age[residents], d.party[residents], IS_NEWCOMER[d.origin[residents]],
              d.building_has_head[d.building[residents]],
              d.compound_has_branch[d.compound[residents]], kinds)
    cell = np.zeros(len(residents), np.int64)
    for value, (_, size) in zip(values, TRAITS, strict=True):
        cell = cell * size + value
    return cell


def _trait_table(p) -> np.ndarray:
    """Utilities without trust and word of mouth for every cell of TRAITS (rows in the
    order of ``_trait_cell``), from the util_* parameters (once per Params)."""
    grid = dict(zip((name for name, _ in TRAITS),
                    np.indices([size for _, size in TRAITS]).reshape(len(TRAITS), -1),
                    strict=True))
    return _trait_utilities(p, **grid)


def _trait_utilities(p, age: np.ndarray, party: np.ndarray, newcomer: np.ndarray,
                     head: np.ndarray, branch: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Utilities of the channels (without trust and word of mouth) for cases with these
    traits: low trust and youth push toward the hotline, the elderly and newcomers stay
    silent (P8), channels missing in the building or compound are unavailable."""
    elderly = age == A["elderly"]
    young = age == A["young"]
    head, branch = head.astype(bool), branch.astype(bool)
    dept = IS_DEPARTMENT[kind]
    local = ~dept  # matters the compound and community can act on
    u = np.zeros((len(age), len(RESIDENT_CHANNELS)))
    u[:, 0] = (p.util_silence_base + p.silence_propensity + p.util_silence_elderly * elderly
               + p.util_silence_newcomer * newcomer)
    u[:, 1] = np.where(head, p.util_head_base + p.util_head_elderly * elderly
                       + p.util_head_party * party - p.util_head_department_penalty * dept,
                       -np.inf)
    u[:, 2] = (p.util_grid_base + (p.util_grid_integration if p.grid_integration else 0.0)
               - p.util_grid_department_penalty * dept)
    u[:, 3] = np.where(branch, p.util_branch_base + p.util_branch_party * party
                       - p.util_branch_department_penalty * dept, -np.inf)
    u[:, 4] = p.util_community_base + p.util_community_local * local - p.util_community_young_penalty * young
    u[:, 5] = (p.util_hotline_base + p.hotline_propensity + p.util_hotline_young * young
               + p.util_hotline_department * dept
               + p.util_hotline_property * (kind == K["property"])
               + p.util_hotline_enforcement * IS_ENFORCEMENT[kind]
               - p.util_hotline_mediated_penalty * IS_MEDIATED[kind])
    return u


def word_of_mouth(model, residents: np.ndarray) -> np.ndarray:
    """Per new case and channel (columns as RESIDENT_CHANNELS): the tie-weighted mean of
    (score − word_of_mouth_neutral) over the resident's neighbours whose last closed case went
    through that channel within ``word_of_mouth_days``; 0 where there is none. Gathers the
    ties of today's raisers only (a few hundred a day at full scale)."""
    p = model.p
    n_cols = len(RESIDENT_CHANNELS)
    out = np.zeros((len(residents), n_cols))
    if len(residents) == 0:
        return out
    owner, nb, weight = neighbour_pairs(model.adj, residents)
    channel = model.last_channel[nb]
    col = COLUMN[np.maximum(channel, 0)]
    told = ((channel >= 0) & (col > 0)
            & (model.last_closed[nb] >= model.day - p.word_of_mouth_days))
    cell = owner[told] * n_cols + col[told]
    w = weight[told]
    size = len(residents) * n_cols
    total = np.bincount(cell, w * (model.last_score[nb[told]] - p.word_of_mouth_neutral),
                        minlength=size)
    heard = np.bincount(cell, w, minlength=size)
    np.divide(total, heard, out=out.reshape(-1), where=heard > 0)
    return out


def choose(model, residents: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Channel code per new resident case (Gumbel-max sampling of the logit)."""
    if len(residents) == 0:
        return np.zeros(0, np.int8)
    u = utilities(model, residents, kinds)
    u += model.rng.gumbel(size=u.shape)
    return CODES[np.argmax(u, axis=1)].astype(np.int8)


def choose_courier(model, couriers: np.ndarray) -> np.ndarray:
    special = model.couriers.special[couriers]
    u = model.rng.random(len(couriers))
    cum_plain, cum_special = derived(model.p, "courier_channels", _courier_cumulative)
    pick = np.where(special, np.searchsorted(cum_special, u, side="right"),
                    np.searchsorted(cum_plain, u, side="right"))
    return COURIER_CHANNELS[np.minimum(pick, 2)].astype(np.int8)


def _courier_cumulative(p) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative probabilities of silence, the grid worker and the hotline (the rest) for
    couriers and riders, and for special grid workers."""
    def cum(silence: float, grid: float) -> np.ndarray:
        return np.cumsum(np.array([silence, grid, 1.0 - silence - grid]))
    return (cum(p.courier_silence_share, p.courier_grid_share),
            cum(p.special_courier_silence_share, p.special_courier_grid_share))
