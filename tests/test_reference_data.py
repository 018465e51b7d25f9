"""The grader's frozen reference data equal what the solutions compute now."""

import numpy as np
import pytest

from grader import cases, reference
from grader.reference import REFERENCE_FILE, stale_entries

ADDED = "aaa/added_first"  # sorts before every real case: position-based seeding would shift all of them


@pytest.fixture(scope="module")
def fresh_with_an_added_case():
    """One fresh generation from the solutions, with a case added that sorts first (one generation serves every
    test below: regenerating takes seconds)."""

    def build(rng):
        return {"z": rng.normal(size=3)}

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(cases.CASES, ADDED, cases.Case(ADDED, build, lambda t, z: {"value": z}))
        return reference.generate()


@pytest.fixture(scope="module")
def fresh(fresh_with_an_added_case):
    return {k: v for k, v in fresh_with_an_added_case.items() if not k.startswith(ADDED + ":")}


def test_frozen_reference_data_are_up_to_date(fresh):
    stale = stale_entries(REFERENCE_FILE, fresh=fresh)
    assert not stale, f"grader/reference.npz is stale; run 'python -m grader.reference --write': {stale[:10]}"


def test_a_changed_entry_is_reported_stale(tmp_path, fresh):
    with np.load(REFERENCE_FILE) as frozen:
        data = {k: frozen[k] for k in frozen.files}
    name = sorted(k for k in data if k.startswith("kl/random:out:value"))[0]
    data[name] = data[name] + 1e-6
    removed = min(k for k in data if k != name)
    del data[removed]
    np.savez(tmp_path / "stale.npz", **data)
    assert set(stale_entries(tmp_path / "stale.npz", fresh=fresh)) == {name, removed}


def test_the_manifest_lists_every_array_with_its_hash():
    from grader.reference import manifest, manifest_path

    with np.load(REFERENCE_FILE) as frozen:
        data = {k: frozen[k] for k in frozen.files}
    text = manifest_path(REFERENCE_FILE).read_text()
    assert text == manifest(data), "grader/reference.manifest is stale; run 'python -m grader.reference --write'"
    assert len(text.splitlines()) == len(data)


def test_adding_a_case_changes_no_other_case(fresh_with_an_added_case):
    fresh = fresh_with_an_added_case
    with np.load(REFERENCE_FILE) as frozen:
        assert set(fresh) - set(frozen.files) == {f"{ADDED}:in:z", f"{ADDED}:out:value"}
        changed = [k for k in frozen.files if not np.array_equal(frozen[k], fresh[k], equal_nan=True)]
    assert not changed, changed[:5]


def test_another_seed_draws_other_inputs_and_the_same_formulas(tmp_path):
    out = tmp_path / "secret.npz"
    reference.write(out, seed=917)
    with np.load(out) as secret, np.load(REFERENCE_FILE) as public:
        assert set(secret.files) == set(public.files)
        drawn = [k for k in public.files if ":in:" in k and public[k].size > 4]
        differ = [k for k in drawn if not np.array_equal(secret[k], public[k])]
        assert len(differ) >= 0.8 * len(drawn), sorted(set(drawn) - set(differ))  # fixed edge points stay
    assert reference.manifest_path(out).is_file()
