"""grader/diagnose.py: what the numbers of a wrong result show, and which hints check_close then gives."""

import math

import numpy as np
import pytest

from grader.diagnose import diagnose
from grader.harness import check_close

EXPECTED = np.array([[1.5, -2.0, 3.25], [0.5, 4.0, -1.0]])


def kinds(got, expected=EXPECTED, **kw):
    return [k for k, _ in diagnose(np.asarray(got, float), expected, **kw)]


@pytest.mark.parametrize("factor, text", [(2.0, "2x"), (0.5, "1/2x"), (-1.0, "sign is flipped")])
def test_constant_factors_are_named(factor, text):
    found = diagnose(EXPECTED * factor, EXPECTED)
    assert [k for k, _ in found] == ["factor"] and text in found[0][1]


def test_an_axis_length_factor_suggests_sum_versus_mean():
    found = diagnose(EXPECTED * 3, EXPECTED, axis_lengths=(2, 3))
    assert "sum over an axis of length 3" in found[0][1]
    found = diagnose(EXPECTED / 3, EXPECTED, axis_lengths=(3,))
    assert "mean over an axis of length 3" in found[0][1]


def test_offsets_by_log_2_per_pixel_and_half_log_2pi_per_dimension_are_named():
    found = diagnose(EXPECTED + 10 * np.log(2), EXPECTED, axis_lengths=(10,))
    assert found[0][0] == "offset" and "+10 x log 2" in found[0][1] and "length 10" in found[0][1]
    found = diagnose(EXPECTED - 4 * 0.5 * np.log(2 * np.pi), EXPECTED, axis_lengths=(4,))
    assert "-4 x (1/2) log 2 pi" in found[0][1]
    assert kinds(EXPECTED + 0.123) == ["offset"]


def test_transposes_and_known_wrong_formulas_are_named_and_noise_is_not():
    assert kinds(EXPECTED.T) == ["transposed"]
    bern = EXPECTED - 1.0
    assert "formula" in kinds(bern, wrong={"the Bernoulli log-likelihood": bern})
    rng = np.random.default_rng(0)
    assert kinds(EXPECTED + rng.normal(size=EXPECTED.shape)) == []


def test_check_close_gives_only_the_hint_the_numbers_point_to():
    hints = {"factor": "check the 1/2", "offset": "check the constant"}  # keyed hints replace the general one
    with pytest.raises(pytest.fail.Exception) as info:
        check_close(EXPECTED * 2, EXPECTED, "f(x)", hint="general hint", hints=hints)
    text = str(info.value)
    assert "the numbers show: every entry is 2x" in text and "check the 1/2" in text
    assert "check the constant" not in text and "general hint" not in text
    with pytest.raises(pytest.fail.Exception) as info:
        check_close(EXPECTED + np.random.default_rng(1).normal(size=(2, 3)), EXPECTED, "f(x)", hint="general hint",
                    hints=hints)
    assert "general hint" in str(info.value) and "the numbers show" not in str(info.value)
    assert "check the 1/2" not in str(info.value) and "check the constant" not in str(info.value)


def test_check_close_checks_the_dtype_when_asked():
    with pytest.raises(pytest.fail.Exception, match="returned dtype float64; expected float32"):
        check_close(EXPECTED, EXPECTED, "f(x)", dtype=np.float32)
    check_close(EXPECTED.astype(np.float32), EXPECTED, "f(x)", dtype=np.float32, rtol=1e-6)


def test_one_value_gets_only_the_factors_and_offsets_that_name_a_mistake():
    one = lambda v: np.array(v, dtype=np.float64)  # noqa: E731
    assert diagnose(one(13.9179 * 2.5), one(2.5)) == []  # any wrong number is some multiple: say nothing
    assert diagnose(one(2.5 + 0.37), one(2.5)) == []  # ... and some offset
    assert diagnose(one(5.0), one(2.5)) == [("factor", "the value is 2x the expected one")]
    (kind, text), = diagnose(one(2.5 + math.log(2.0)), one(2.5))
    assert kind == "offset" and text.startswith("the value is off by +0.69") and "log 2" in text
    (kind, text), = diagnose(np.array([5.0, 7.0]), np.array([2.5, 3.5]))  # two entries: a pattern, as before
    assert text == "every entry is 2x the expected one"
