"""The grader's frozen reference data equal what the solutions compute now."""

from grader.reference import REFERENCE_FILE, stale_entries


def test_frozen_reference_data_are_up_to_date():
    stale = stale_entries(REFERENCE_FILE)
    assert not stale, f"grader/reference.npz is stale; run 'python -m grader.reference --write': {stale[:10]}"
