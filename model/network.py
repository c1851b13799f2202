"""The neighbour network (邻里关系网络): household, building and compound ties with origin
homophily, and a few ties across compounds, built directly as a sparse CSR matrix.

Weights: household ties count double (assumption). ``influence_matrix`` row-normalises the
adjacency for the Friedkin-Johnsen social-influence step.

The network carries four mechanisms (docs/ODD.md, "Network submodels"):

- neighbour disputes arise on non-household ties, more on ties across origins
  (``dispute_ties`` here; the hazards in model/case_generation.py);
- word of mouth: residents lean toward the channels that recently served their neighbours
  well (``neighbour_pairs`` here; the utilities in model/channel_choice.py, the last results
  kept by model/satisfaction.py);
- volunteers are recruited through ties to volunteers and party members
  (model/participation.py);
- satisfaction spreads (Friedkin-Johnsen, model/satisfaction.py), measured by the
  dispersion measure ``dissatisfied_share`` (model/kpis.py).

``attach`` sets up the state these need when a model is built.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .case_generation import mixing_multiplier
from .district import District
from .params import Params


def _blocks(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sort residents by ``keys``; return order, block id per resident, block starts, sizes."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    block = np.empty(len(keys), np.int64)
    block[order] = np.repeat(np.arange(len(starts)), sizes)
    return order, block, starts, sizes


def _random_ties(group: np.ndarray, origin: np.ndarray, k_mean: float, homophily: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each resident draws Poisson(k_mean) partners in its group, the same origin with
    probability ``homophily`` (else anyone in the group)."""
    n = len(group)
    counts = rng.poisson(k_mean, n)
    src = np.repeat(np.arange(n), counts)
    same = rng.random(len(src)) < homophily
    g_order, g_block, g_start, g_size = _blocks(group)
    o_order, o_block, o_start, o_size = _blocks(group * 8 + origin)
    u = rng.random(len(src))
    dst = np.where(
        same,
        o_order[o_start[o_block[src]] + (u * o_size[o_block[src]]).astype(np.int64)],
        g_order[g_start[g_block[src]] + (u * g_size[g_block[src]]).astype(np.int64)],
    )
    return src, dst


def _household_ties(household: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs within each household."""
    order, block, starts, sizes = _blocks(household)
    size = sizes[block]
    src = np.repeat(np.arange(len(household)), size)
    offsets = np.arange(len(src)) - np.repeat(np.cumsum(size) - size, size)
    dst = order[starts[block[src]] + offsets]
    return src, dst


def build(d: District, p: Params, rng: np.random.Generator) -> sp.csr_matrix:
    """The symmetric weighted adjacency matrix over all residents (seasonal included)."""
    n = d.n_residents
    origin = d.origin.astype(np.int64)
    parts = [_random_ties(group, origin, k, p.origin_homophily, rng)
             for group, k in ((d.building, p.ties_building), (d.compound, p.ties_compound))]
    parts.append(_random_ties(d.community, origin, p.ties_cross_compound, 0.0, rng))
    household = _household_ties(d.household)
    parts.append(household)
    # Every tie in both directions: rows are (src, dst), columns (dst, src). Resident indices
    # fit in int32, the index type of the matrix: half the memory traffic of int64.
    rows = np.concatenate([s for s, _ in parts] + [t for _, t in parts], dtype=np.int32)
    half = len(rows) // 2
    cols = np.concatenate((rows[half:], rows[:half]))
    adj = _binary(rows, cols, n).astype(np.float64)
    # Kin ties weigh more. Every household pair is among the ties above, so the weights are
    # set in place (the same matrix as adding a household adjacency, without a sparse sum).
    row = np.repeat(np.arange(n), np.diff(adj.indptr))
    kin = d.household[row] == d.household[adj.indices]
    adj.data[kin] += p.household_tie_weight - 1.0
    return adj


def _binary(rows: np.ndarray, cols: np.ndarray, n: int) -> sp.csr_matrix:
    """0/1 adjacency (boolean) without self-loops: a tie drawn twice is still one tie.

    Boolean entries make duplicates merge to True (logical or) and carry an eighth of the
    bytes of float ones through the sort: a third of the build time at full scale."""
    keep = rows != cols
    return sp.csr_matrix((np.ones(np.count_nonzero(keep), bool), (rows[keep], cols[keep])),
                         shape=(n, n))


def influence_matrix(adj: sp.csr_matrix) -> sp.csr_matrix:
    """Row-stochastic W; an isolated resident listens only to itself (a self-loop)."""
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    # each row scaled by 1 / degree, entry by entry (what diag(inv) @ adj computes), keeping
    # adj's sorted structure
    row = np.repeat(np.arange(adj.shape[0]), np.diff(adj.indptr))
    W = sp.csr_matrix((adj.data * inv[row], adj.indices.copy(), adj.indptr.copy()),
                      shape=adj.shape)
    isolated = deg == 0
    if isolated.any():  # rare: only then a sparse sum for the self-loops
        W = (W + sp.diags(isolated.astype(float))).tocsr()
    return W


def attach(model) -> None:
    """The network mechanisms' state of a new model: the dispute weights of the ties, and
    each resident's last closed case (channel, score, day; none yet) for word of mouth."""
    n = model.district.n_residents
    model.dispute_ties = dispute_ties(model.adj, model.district, model.p)
    model.last_channel = np.full(n, -1, np.int8)
    model.last_score = np.zeros(n)
    # far enough in the past never to be recent, and safe from overflow when subtracted
    model.last_closed = np.full(n, np.iinfo(np.int32).min // 2, np.int32)


def dispute_ties(adj: sp.csr_matrix, d: District, p: Params) -> sp.csr_matrix | None:
    """The neighbour-dispute weight of every tie, as a matrix with ``adj``'s structure: 0 for
    household ties (family quarrels are the ``family`` kind), ``1 + mixing_effect`` for a tie
    across origins (P1; softened by neighbourhood pacts) and 1 otherwise. None when
    ``network_disputes`` is off. Built once: origins and households never change; who is
    present enters when the hazards are refreshed."""
    if not p.network_disputes:
        return None
    origin = d.origin.astype(np.int8)  # one byte a tie through the repeat and the gather
    cross = np.repeat(origin, np.diff(adj.indptr)) != origin[adj.indices]
    weight = 1.0 + (p.mixing_effect * mixing_multiplier(p)) * cross
    # build gives household ties, and only them, household_tie_weight (> 1): no household gather
    weight[adj.data > 1.0] = 0.0
    # the index arrays are shared with adj (read only): no copy of the 2-3 M ties
    return sp.csr_matrix((weight, adj.indices, adj.indptr), shape=adj.shape, copy=False)


def neighbour_pairs(adj: sp.csr_matrix, residents: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every tie of each of ``residents``, from the CSR rows without a loop: (position in
    ``residents``, neighbour, tie weight), one entry per tie."""
    start = adj.indptr[residents]
    count = adj.indptr[residents + 1] - start
    owner = np.repeat(np.arange(len(residents)), count)
    # position of each entry within its row: a running index minus the row's first entry
    within = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    at = np.repeat(start, count) + within
    return owner, adj.indices[at], adj.data[at]


def to_networkx(adj: sp.csr_matrix, d: District | None = None, max_nodes: int = 50_000) -> nx.Graph:
    """Export to networkx (small districts only), with resident attributes when ``d`` is given."""
    if adj.shape[0] > max_nodes:
        raise ValueError(f"network has {adj.shape[0]} residents; to_networkx allows at most "
                         f"{max_nodes} (use a smaller --scale)")
    g = nx.from_scipy_sparse_array(adj)
    if d is not None:
        for name in ("origin", "age", "compound", "community", "seasonal"):
            nx.set_node_attributes(g, dict(enumerate(getattr(d, name).tolist())), name)
    return g
