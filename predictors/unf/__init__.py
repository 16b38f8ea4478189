"""Universal neural functionals (Zhou et al., 2024): equivariant layers for any weight space.

- :mod:`~predictors.unf.spec`: weight-space specs (axis labels) and their validation;
- :mod:`~predictors.unf.partitions`: valid partitions and basis-term counts;
- :mod:`~predictors.unf.basis`: one basis function as array operations;
- :mod:`~predictors.unf.plan`: the grouped evaluation plan of a layer;
- :mod:`~predictors.unf.classes`: tensors of equal labels and shape, stacked, and the
  plan in their terms;
- :mod:`~predictors.unf.layer`: :class:`UNFLayer` and the deep :class:`UNF`;
- :mod:`~predictors.unf.pool`: invariant pooling;
- :mod:`~predictors.unf.permute`: neuron permutations of a weight space.
"""

from predictors.unf.basis import BasisTerm, term_matrix
from predictors.unf.layer import UNF, UNFLayer, nf_relu
from predictors.unf.partitions import bell, count_basis_terms, valid_partitions
from predictors.unf.permute import permute, permute_each, random_permutations
from predictors.unf.pool import invariant_pool, pool_classes
from predictors.unf.spec import TensorSpec, match_spec

__all__ = [
    "BasisTerm",
    "TensorSpec",
    "UNF",
    "UNFLayer",
    "bell",
    "count_basis_terms",
    "invariant_pool",
    "match_spec",
    "nf_relu",
    "permute",
    "pool_classes",
    "permute_each",
    "random_permutations",
    "term_matrix",
    "valid_partitions",
]
