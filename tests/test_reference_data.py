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


def test_the_manifest_lists_every_array_with_its_hash():
    import numpy as np

    from grader.reference import manifest, manifest_path

    with np.load(REFERENCE_FILE) as frozen:
        data = {k: frozen[k] for k in frozen.files}
    text = manifest_path(REFERENCE_FILE).read_text()
    assert text == manifest(data), "grader/reference.manifest is stale; run 'python -m grader.reference --write'"
    assert len(text.splitlines()) == len(data)


def test_adding_a_case_changes_no_other_case(monkeypatch):
    import numpy as np

    from grader import cases, reference

    def build(rng):
        return {"z": rng.normal(size=3)}

    monkeypatch.setitem(cases.CASES, "aaa/added_first", cases.Case("aaa/added_first", build, lambda t, z: {"value": z}))
    fresh = reference.generate()
    with np.load(REFERENCE_FILE) as frozen:
        assert set(fresh) - set(frozen.files) == {"aaa/added_first:in:z", "aaa/added_first:out:value"}
        changed = [k for k in frozen.files if not np.array_equal(frozen[k], fresh[k], equal_nan=True)]
    assert not changed, changed[:5]


def test_another_seed_draws_other_inputs_and_the_same_formulas(tmp_path):
    import numpy as np

    from grader import reference

    out = tmp_path / "secret.npz"
    reference.write(out, seed=917)
    with np.load(out) as secret, np.load(REFERENCE_FILE) as public:
        assert set(secret.files) == set(public.files)
        drawn = [k for k in public.files if ":in:" in k and public[k].size > 4]
        differ = [k for k in drawn if not np.array_equal(secret[k], public[k])]
        assert len(differ) >= 0.8 * len(drawn), sorted(set(drawn) - set(differ))  # fixed edge points stay
    assert reference.manifest_path(out).is_file()
