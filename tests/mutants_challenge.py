"""Planted bugs and correct variants of the challenge exercises, 11.1-11.4 and T11.1-T11.4 (see tests/mutants.py)."""

from tests.mutants import Mutant, Variant

N = "numpy_ag/challenge.py"
T = "pytorch/challenge.py"

SERIES = "    return LOG_2 + l2 * (1.0 / 12.0 + l2 * (-7.0 / 1440.0 + l2 * (31.0 / 90720.0)))"
SERIES_TESTS = ("test_cb_log_norm_series_is_accurate_for_small_logits",)
F32_TESTS = ("test_cb_log_norm_f32_values_are_float32_accurate_on_both_sides_of_your_window",
             "test_cb_log_norm_f32_gradients_are_float32_accurate_on_both_sides_of_your_window",
             "test_cb_log_norm_f32_is_accurate_at_the_edge_of_your_window")
LME_VALUE_TESTS = ("test_log_mean_exp_matches_exact_values", "test_log_mean_exp_is_exact_for_huge_tiny_and_minus_inf_entries")
MEAN_TESTS = ("test_cb_mean_from_density_matches_the_exact_mean", "test_cb_mean_from_density_gradient_is_finite_and_accurate")


def _both(name, np_subs, torch_subs, exercise, tests, keyword, torch_tests=None):
    """The same mistake in both tracks."""
    return [Mutant(f"challenge_{name}", N, np_subs, exercise, tests, keyword),
            Mutant(f"challenge_torch_{name}", T, torch_subs, "T" + exercise, torch_tests or tests, keyword)]


def _same(name, subs, exercise, tests, keyword):
    """The same text substitution applies in both tracks."""
    return _both(name, subs, subs, exercise, tests, keyword)


MUTANTS = [
    # 11.1: the Taylor series of log C
    *_same("series_stops_at_l4", ((SERIES, "    return LOG_2 + l2 * (1.0 / 12.0 + l2 * (-7.0 / 1440.0))"),),
           "11.1", SERIES_TESTS, "up to l^4"),
    *_same("series_l6_coefficient_of_tanh_x_over_x", (("31.0 / 90720.0", "62.0 / 2835.0"),),
           "11.1", SERIES_TESTS, "wrong value"),
    *_same("series_l4_sign_flipped", (("-7.0 / 1440.0", "7.0 / 1440.0"),), "11.1", SERIES_TESTS, "wrong value"),
    *_same("series_l2_coefficient_one_sixth", (("(1.0 / 12.0 + l2", "(1.0 / 6.0 + l2"),), "11.1", SERIES_TESTS,
           "wrong value"),
    *_both("series_switches_to_the_closed_form",
           ((SERIES, SERIES.replace("    return", "    series =") + "\n    far = np.abs(logits) >= 0.1\n"
             "    safe = np.where(far, logits, 1.0)\n    return np.where(far, np.log(safe / np.tanh(0.5 * safe)), series)"),),
           ((SERIES, SERIES.replace("    return", "    series =") + "\n    far = torch.abs(logits) >= 0.1\n"
             "    safe = torch.where(far, logits, 1.0)\n"
             "    return torch.where(far, torch.log(safe / torch.tanh(0.5 * safe)), series)"),),
           "11.1", ("test_cb_log_norm_series_is_a_truncated_taylor_series",), "no truncation"),
    Mutant("challenge_series_log2_numpy_scalar", N, (("LOG_2 = float(np.log(2.0))", "LOG_2 = np.log(2.0)"),),
           "11.1", ("test_cb_log_norm_series_keeps_float32",), "float32"),
    # 11.2: the float32 window
    *_same("window_of_float64", (("    return 0.3\n", "    return 1e-2\n"),), "11.2", F32_TESTS, "your window 0.01"),
    *_same("window_too_wide", (("    return 0.3\n", "    return 1.5\n"),), "11.2", F32_TESTS, "wrong value"),
    *_same("window_ignored_by_the_function", (("    window = taylor_window_f32()", "    window = 1e-2"),),
           "11.2", F32_TESTS, "d cb_log_norm_f32(l) / dl"),
    *_both("closed_form_fed_zero", (("    safe = np.where(in_window, window, logits)  #", "    safe = logits  #"),),
           (("    safe = torch.where(in_window, window, logits)  #", "    safe = logits  #"),),
           "11.2", F32_TESTS, "finite"),
    *_both("closed_form_upcast_to_float64",
           (("    exact = np.log(safe / np.tanh(0.5 * safe))", "    exact = np.log(safe / np.tanh(np.float64(0.5) * safe))"),),
           (("    exact = torch.log(safe / torch.tanh(0.5 * safe))",
             "    exact = torch.log(safe / torch.tanh(torch.tensor([0.5], dtype=torch.float64) * safe))"),),
           "11.2", F32_TESTS, "dtype"),
    *_same("window_as_a_string", (("    return 0.3\n", "    return '0.3'\n"),), "11.2",
           ("test_taylor_window_f32_is_a_positive_python_float", *F32_TESTS), "positive python float"),
    # 11.3: log-mean-exp
    *_both("lme_naive", (("    m = getval(np.max(a, axis=axis, keepdims=True))", "    return np.log(np.mean(np.exp(a), axis=axis, keepdims=keepdims))\n    m = 0"),),
           (("    m = torch.amax(a, dim=dim, keepdim=True).detach()", "    return torch.log(torch.mean(torch.exp(a), dim=dim, keepdim=keepdim))\n    m = 0"),),
           "11.3", LME_VALUE_TESTS, "expected the finite value"),
    *_both("lme_is_log_sum_exp", (("np.log(np.mean(np.exp(a - m)", "np.log(np.sum(np.exp(a - m)"),),
           (("torch.log(torch.mean(torch.exp(a - m)", "torch.log(torch.sum(torch.exp(a - m)"),),
           "11.3", LME_VALUE_TESTS, "subtract log n"),
    *_both("lme_shift_not_added_back", (("axis=axis, keepdims=True)) + m", "axis=axis, keepdims=True))"),),
           (("dim=dim, keepdim=True)) + m", "dim=dim, keepdim=True))"),),
           "11.3", LME_VALUE_TESTS, "wrong value"),
    *_both("lme_all_minus_inf_gives_nan", (("    m = np.where(np.isfinite(m), m, 0.0)  #", "    #"),),
           (("    m = torch.where(torch.isfinite(m), m, 0.0)  #", "    #"),),
           "11.3", ("test_log_mean_exp_of_an_all_minus_inf_slice_is_minus_inf",), "-inf"),
    *_both("lme_ignores_keepdims", (("    return out if keepdims else np.squeeze(out, axis=axis)", "    return np.squeeze(out, axis=axis)"),),
           (("    return out if keepdim else out.squeeze(dim)", "    return out.squeeze(dim)"),),
           "11.3", ("test_log_mean_exp_reduces_the_given_axis_with_and_without_keepdims",
                    "test_log_mean_exp_reduces_the_given_dim_with_and_without_keepdim"), "expected shape"),
    Mutant("challenge_lme_always_last_axis", N, (("np.mean(np.exp(a - m), axis=axis", "np.mean(np.exp(a - m), axis=-1"),),
           "11.3", ("test_log_mean_exp_reduces_the_given_axis_with_and_without_keepdims",), "axis"),
    Mutant("challenge_torch_lme_always_last_axis", T, (("torch.mean(torch.exp(a - m), dim=dim", "torch.mean(torch.exp(a - m), dim=-1"),),
           "T11.3", ("test_log_mean_exp_reduces_the_given_dim_with_and_without_keepdim",), "dim=0"),
    # 11.4: the CB mean from its density
    *_both("mean_is_eta", (("    return np.where(in_window, taylor, exact)\n    # END SOLUTION\n",
                            "    return 0.5 * (1.0 + np.tanh(0.5 * logits))\n    # END SOLUTION\n"),),
           (("    return torch.where(in_window, taylor, exact)\n    # END SOLUTION\n",
             "    return torch.sigmoid(logits)\n    # END SOLUTION\n"),),
           "11.4", MEAN_TESTS, "sigmoid"),
    *_same("mean_without_a_series", (("    window = 1e-3\n", "    window = 1e-300\n"),), "11.4", MEAN_TESTS,
           "wrong value"),
    *_same("mean_series_window_too_wide", (("    window = 1e-3\n", "    window = 0.1\n"),), "11.4", MEAN_TESTS,
           "wrong value"),
    *_both("mean_with_overflowing_exp",
           (("    exact = 0.5 + 0.5 / np.tanh(0.5 * safe) - 1.0 / safe", "    exact = 1.0 / (1.0 - np.exp(-safe)) - 1.0 / safe"),),
           (("    exact = 0.5 + 0.5 / torch.tanh(0.5 * safe) - 1.0 / safe", "    exact = 1.0 / (1.0 - torch.exp(-safe)) - 1.0 / safe"),),
           "11.4", ("test_cb_mean_from_density_gradient_is_finite_and_accurate",), "finite"),
    *_both("mean_forgets_the_half",
           (("    exact = 0.5 + 0.5 / np.tanh(0.5 * safe) - 1.0 / safe", "    exact = 0.5 / np.tanh(0.5 * safe) - 1.0 / safe"),),
           (("    exact = 0.5 + 0.5 / torch.tanh(0.5 * safe) - 1.0 / safe", "    exact = 0.5 / torch.tanh(0.5 * safe) - 1.0 / safe"),),
           "11.4", MEAN_TESTS, "wrong value"),
]

VARIANTS = [
    Variant("challenge_series_with_the_l8_term", N, ((SERIES, SERIES.replace("(31.0 / 90720.0)", "(31.0 / 90720.0 - l2 * (127.0 / 4838400.0))")),), "11.1"),
    Variant("challenge_torch_series_with_the_l8_term", T, ((SERIES, SERIES.replace("(31.0 / 90720.0)", "(31.0 / 90720.0 - l2 * (127.0 / 4838400.0))")),), "T11.1"),
    Variant("challenge_window_0_2", N, (("    return 0.3\n", "    return 0.2\n"),), "11.2"),
    Variant("challenge_torch_window_0_5", T, (("    return 0.3\n", "    return 0.5\n"),), "T11.2"),
    Variant("challenge_lme_log_sum_exp_minus_log_n", N, (("    out = np.log(np.mean(np.exp(a - m), axis=axis, keepdims=True)) + m",
            "    n = a.shape[axis]\n    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) - float(np.log(n)) + m"),),
            "11.3"),
    Variant("challenge_lme_shift_with_gradient", N, (("    m = getval(np.max(a, axis=axis, keepdims=True))",
            "    m = np.max(a, axis=axis, keepdims=True)"),), "11.3"),
    Variant("challenge_torch_lme_logsumexp", T, (("    m = torch.amax(a, dim=dim, keepdim=True).detach()",
            "    return torch.logsumexp(a, dim=dim, keepdim=keepdim) - math.log(a.shape[dim])\n"
            "    m = torch.amax(a, dim=dim, keepdim=True).detach()"),), "T11.3"),
    Variant("challenge_mean_eta_over_tanh", N, (("    exact = 0.5 + 0.5 / np.tanh(0.5 * safe) - 1.0 / safe",
            "    exact = 0.5 * (1.0 + np.tanh(0.5 * safe)) / np.tanh(0.5 * safe) - 1.0 / safe"),), "11.4"),
    Variant("challenge_torch_mean_window_1e_2_with_l5", T, (("    window = 1e-3\n", "    window = 1e-2\n"),
            ("    taylor = 0.5 + small / 12.0 - small**3 / 720.0", "    taylor = 0.5 + small / 12.0 - small**3 / 720.0 + small**5 / 30240.0")), "T11.4"),
]
