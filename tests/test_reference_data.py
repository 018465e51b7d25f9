"""The grader's frozen reference data equal what the solutions compute now."""

from grader.reference import REFERENCE_FILE, stale_entries


def test_frozen_reference_data_are_up_to_date():
    stale = stale_entries(REFERENCE_FILE)
    assert not stale, f"grader/reference.npz is stale; run 'python -m grader.reference --write': {stale[:10]}"


def test_a_changed_entry_is_reported_stale(tmp_path):
    import numpy as np

    with np.load(REFERENCE_FILE) as frozen:
        data = {k: frozen[k] for k in frozen.files}
    name = sorted(k for k in data if k.startswith("kl/random:out:value"))[0]
    data[name] = data[name] + 1e-6
    removed = min(k for k in data if k != name)
    del data[removed]
    np.savez(tmp_path / "stale.npz", **data)
    assert set(stale_entries(tmp_path / "stale.npz")) == {name, removed}
