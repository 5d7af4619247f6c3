"""DistributedSampler against PyTorch's: partition, padding, drop_last, epochs."""

import pytest
from rustgrad.utils.data.distributed import DistributedSampler

torch = pytest.importorskip("torch")
from torch.utils.data.distributed import DistributedSampler as TorchSampler


@pytest.mark.parametrize("n,replicas", [(10, 3), (12, 4), (2, 4), (1, 3), (7, 1)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_matches_torch(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        ref = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(ref)
        assert len(ours) == len(ref)


@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_partitions_one_permutation(drop_last):
    # rustgrad's generator is not PyTorch's, so the order differs; the structure must not.
    n, replicas = 23, 4
    for epoch in range(3):
        parts = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), replicas, rank, seed=5, drop_last=drop_last)
            s.set_epoch(epoch)
            parts.append(list(s))
            assert len(parts[-1]) == len(
                TorchSampler(range(n), replicas, rank, drop_last=drop_last)
            )
        flat = [i for p in parts for i in p]
        if drop_last:
            assert len(set(flat)) == len(flat) == 20
        else:
            assert set(flat) == set(range(n)) and len(flat) == 24
        if epoch == 0:
            first = parts
        else:
            assert parts != first  # set_epoch reshuffles
    again = DistributedSampler(range(n), replicas, 0, seed=5, drop_last=drop_last)
    assert list(again) == first[0]  # same seed and epoch: same order


def test_bad_rank():
    with pytest.raises(
        ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"
    ):
        DistributedSampler(range(4), 3, 3)
