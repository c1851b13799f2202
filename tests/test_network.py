"""The neighbour network: symmetric, no self-loops, kin tied, origin homophily, export."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from model import Params, district, network
from model.vocabulary import ORIGINS


@pytest.fixture(scope="module")
def built():
    p = Params(scale=0.1)
    rng = np.random.default_rng(21)
    d = district.generate(p, rng)
    return p, d, network.build(d, p, rng)


def test_symmetric_without_self_loops(built):
    _, d, adj = built
    assert adj.shape == (d.n_residents, d.n_residents)
    assert sp.isspmatrix_csr(adj) or isinstance(adj, sp.csr_array)
    assert (adj != adj.T).nnz == 0
    assert np.all(adj.diagonal() == 0)
    assert np.all(np.isin(adj.data, (1.0, Params().household_tie_weight)))


def test_household_members_all_tied_with_kin_weight(built):
    _, d, adj = built
    coo = adj.tocoo()
    kin = d.household[coo.row] == d.household[coo.col]
    # every tie inside a household carries the kin weight, every other tie weight 1
    assert np.all(coo.data[kin] == Params().household_tie_weight)
    assert np.all(coo.data[~kin] == 1.0)
    # each resident is tied to all other members of the household (seasonal ones included)
    size = np.bincount(d.household)[d.household]
    kin_degree = np.bincount(coo.row[kin], minlength=d.n_residents)
    np.testing.assert_array_equal(kin_degree, size - 1)
    assert d.seasonal.any() and np.all(kin_degree[d.seasonal] >= 1)


def test_ties_stay_mostly_in_building_and_compound(built):
    p, d, adj = built
    coo = adj.tocoo()
    other = d.household[coo.row] != d.household[coo.col]
    r, c = coo.row[other], coo.col[other]
    assert np.all(d.community[r] == d.community[c])  # all ties within the community
    same_compound = (d.compound[r] == d.compound[c]).mean()
    expected_cross = p.ties_cross_compound / (p.ties_building + p.ties_compound + p.ties_cross_compound)
    assert same_compound > 1 - 2 * expected_cross
    mean_degree = np.diff(adj.indptr).mean()
    # each resident draws ~ building + compound + cross ties, and receives as many
    drawn = p.ties_building + p.ties_compound + p.ties_cross_compound
    assert 1.2 * drawn < mean_degree < 2 * drawn + 3


def _same_origin_share(adj, d) -> float:
    coo = sp.triu(adj, 1).tocoo()
    other = d.household[coo.row] != d.household[coo.col]
    return float((d.origin[coo.row[other]] == d.origin[coo.col[other]]).mean())


def test_origin_homophily(built):
    p, d, adj = built
    share = _same_origin_share(adj, d)
    # random mixing over the whole district
    o = np.bincount(d.origin, minlength=len(ORIGINS)) / d.n_residents
    assert share > (o**2).sum() + 0.1
    # random mixing within each building (the same district, homophily switched off)
    plain = network.build(d, p.with_updates(origin_homophily=0.0), np.random.default_rng(5))
    plain_share = _same_origin_share(plain, d)
    assert share > plain_share + 0.1
    full = network.build(d, p.with_updates(origin_homophily=1.0), np.random.default_rng(5))
    assert _same_origin_share(full, d) > share


def test_influence_matrix_is_row_stochastic(built):
    _, _, adj = built
    W = network.influence_matrix(adj)
    rows = np.asarray(W.sum(axis=1)).ravel()
    deg = np.diff(adj.indptr)
    np.testing.assert_allclose(rows[deg > 0], 1.0)
    assert np.all(rows[deg == 0] == 0)
    assert W.min() >= 0


def test_to_networkx_small_district():
    p = Params(scale=0.01)
    rng = np.random.default_rng(3)
    d = district.generate(p, rng)
    adj = network.build(d, p, rng)
    g = network.to_networkx(adj, d)
    assert g.number_of_nodes() == d.n_residents
    assert g.number_of_edges() == adj.nnz // 2
    i = int(np.flatnonzero(d.seasonal)[0])
    assert g.nodes[i]["origin"] == d.origin[i] and g.nodes[i]["seasonal"] is True
    assert g.nodes[0]["compound"] == d.compound[0]
    j = int(adj.indices[adj.indptr[i]])
    assert g.has_edge(i, j) and g.edges[i, j]["weight"] == adj[i, j]


def test_to_networkx_refuses_huge_networks():
    big = sp.csr_matrix((60_000, 60_000))
    with pytest.raises(ValueError, match="60000.*scale"):
        network.to_networkx(big)
    with pytest.raises(ValueError, match="at most 10"):
        network.to_networkx(sp.csr_matrix((11, 11)), max_nodes=10)
