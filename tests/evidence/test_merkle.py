"""RFC 6962 Merkle trees: roots as the RFC defines them, and inclusion proofs that hold."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from hub.evidence.merkle import MerkleTree, leaf_hash, node_hash, root_of, verify_inclusion


def _reference_root(leaves: list[bytes]) -> bytes:
    """MTH of RFC 6962 §2.1, written straight from its definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


def test_known_roots() -> None:
    assert root_of([]).hex() == hashlib.sha256(b"").hexdigest()
    one = leaf_hash(b"")
    assert one.hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert root_of([one]) == one


leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70).map(
    lambda data: [leaf_hash(d) for d in data]
)


@given(leaf_lists)
def test_root_matches_the_rfc_definition(leaves: list[bytes]) -> None:
    assert MerkleTree(leaves).root() == _reference_root(leaves)


@given(leaf_lists, st.data())
def test_every_leaf_has_a_proof_that_verifies(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    path = tree.proof(index)
    assert verify_inclusion(leaves[index], index, len(leaves), path, tree.root())


@given(leaf_lists, st.data())
def test_a_proof_fails_for_anything_else(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    size, root = len(leaves), tree.root()
    index = data.draw(st.integers(0, size - 1))
    path = tree.proof(index)
    other = leaf_hash(b"forged")
    assert not verify_inclusion(other, index, size, path, root)
    assert not verify_inclusion(leaves[index], index, size, path, leaf_hash(b"root"))
    assert not verify_inclusion(leaves[index], size, size, path, root)
    if path:
        at = data.draw(st.integers(0, len(path) - 1))
        bent = [*path]
        bent[at] = bytes(b ^ 1 for b in bent[at])
        assert not verify_inclusion(leaves[index], index, size, bent, root)
        assert not verify_inclusion(leaves[index], index, size, path[:-1], root)
    others = [i for i in range(size) if leaves[i] != leaves[index]]
    if others:
        moved = data.draw(st.sampled_from(others))
        assert not verify_inclusion(leaves[index], moved, size, path, root)
    assert not verify_inclusion(leaves[index], index, size, [*path, other], root)
