"""Merkle trees as RFC 6962 (Certificate Transparency) hashes them, and inclusion proofs.

Leaves are hashed `SHA-256(0x00 || data)`, nodes `SHA-256(0x01 || left || right)`; a tree
of n leaves splits at the largest power of two below n. An inclusion proof is the audit
path of RFC 6962 §2.1.1, checked as RFC 9162 §2.1.3.2 describes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n ≥ 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class MerkleTree:
    """A tree over leaf hashes, with subtree hashes remembered for the proofs asked of it."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = list(leaves)
        self._memo: dict[tuple[int, int], bytes] = {}

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self.leaves)

    def root(self) -> bytes:
        """The tree head (the hash of the empty string for no leaves)."""
        if not self.leaves:
            return hashlib.sha256(b"").digest()
        return self._hash(0, len(self.leaves))

    def _hash(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self.leaves[start]
        key = (start, end)
        found = self._memo.get(key)
        if found is None:
            k = _split(end - start)
            found = node_hash(self._hash(start, start + k), self._hash(start + k, end))
            self._memo[key] = found
        return found

    def proof(self, index: int) -> list[bytes]:
        """The audit path of leaf `index`, from the leaf's sibling up to the root's child."""
        if not 0 <= index < len(self.leaves):
            raise IndexError(f"leaf {index} not in a tree of {len(self.leaves)}")
        path: list[bytes] = []
        start, end = 0, len(self.leaves)
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self._hash(start + k, end))
                end = start + k
            else:
                path.append(self._hash(start, start + k))
                start += k
        path.reverse()
        return path


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The tree head over `leaves` (leaf hashes)."""
    return MerkleTree(leaves).root()


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether `path` proves `leaf` (a leaf hash) is leaf `index` of a tree of `size` at `root`."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
