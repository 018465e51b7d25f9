"""Planted bugs and correct variants of the PyTorch track (see tests/mutants.py)."""

from tests.mutants import Mutant, Variant

F = "pytorch/"
KL = "    return 0.5 * torch.sum(mu**2 + torch.exp(log_var) - log_var - 1.0, dim=-1)"
Z = "    return mu + torch.exp(0.5 * log_var) * eps"
BCE = '    log_bernoulli = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")'
NORM_EXACT = "    safe = torch.where(in_window, TAYLOR_WINDOW, logits)  # keeps the unused exact branch finite"
EPOCH_EPS = "torch.randn((n_samples, len(idx), z_dim), generator=generator, dtype=x_train.dtype)"
EVAL_EPS = "torch.randn((n_samples, len(xb), z_dim), generator=generator, dtype=x.dtype)"
GAUSS_SQ = "sq = (x - mu) ** 2 * torch.exp(-log_var)"
DIAG_SUM = "torch.sum(LOG_2PI + log_var + sq, dim=-1)"
STD_SUM = "torch.sum(LOG_2PI + z**2, dim=-1)"
CB_SUM = "torch.sum(log_bernoulli + cb_log_norm(logits), dim=-1)"
# cb_log_prob: the reference's body returns CBLogProb.apply, the exponential-family form with its gradient written
# by hand. The two forms students write with torch operations alone, the second form (exponential family) and the
# first (Bernoulli term plus log C): their planted bugs replace the whole body by that form with one mistake in it.
CB_BODY = "    return CBLogProb.apply(x, logits)\n"
CB_WINDOW = ("    in_window = a < LOG_PARTITION_WINDOW\n"
             "    safe = torch.where(in_window, LOG_PARTITION_WINDOW, a)  # keeps the unused exact branch finite\n")
CB_SECOND_FORM = ("    a = torch.abs(logits)\n" + CB_WINDOW
                  + "    exact = 0.5 * safe + torch.log((1.0 - torch.exp(-torch.clamp(safe, max=EXP_CAP))) / safe)\n"
                  "    a2 = (a * in_window) ** 2  # zero outside the window, so that a^4 of the unused branch cannot overflow\n"
                  "    series = a2 / 24.0 - a2**2 / 2880.0\n"
                  "    return torch.sum((x - 0.5) * logits - torch.where(in_window, series, exact), dim=-1)\n")
D_EXACT = "            d_log_partition = torch.copysign(1.0 / one_minus_e - 1.0 / safe - 0.5, logits)"
D_SERIES = "            d_log_partition[window] = small / 12.0 - small**3 / 720.0"
D_LOGITS = "        dl = (grad_out * grad_logits).sum_to_size(logits_shape) if ctx.needs_input_grad[1] else None"
CB_FIRST_FORM = "    x, logits = torch.broadcast_tensors(x, logits)\n" + BCE + "\n    return " + CB_SUM + "\n"


def first_form(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """Substitutions that replace cb_log_prob's body by the first form with ``old`` replaced by ``new``."""
    assert CB_FIRST_FORM.count(old) == 1, old
    return ((CB_BODY, CB_FIRST_FORM.replace(old, new)),)


def second_form(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """Substitutions that replace cb_log_prob's body by the second form, autograd's gradient, with ``old`` replaced
    by ``new``."""
    assert CB_SECOND_FORM.count(old) == 1, old
    return ((CB_BODY, CB_SECOND_FORM.replace(old, new)),)

NORM_WINDOW = ("    in_window = torch.abs(logits) < TAYLOR_WINDOW\n" + NORM_EXACT)
MEAN_WINDOW = ("    in_window = torch.abs(logits) < TAYLOR_WINDOW\n    safe = torch.where(in_window, TAYLOR_WINDOW, logits)\n"
               "    small")
MEAN_TAYLOR = "    taylor = 0.5 + small / 12.0 - small**3 / 720.0\n    return torch.where(in_window, taylor, exact)"
ELBO_RET = "    return log_lik - kl, log_lik, kl"
ELBO_LIK = "    log_lik = torch.mean(cb_log_prob(x, decode(z)), dim=0)  # (K, B) -> (B,)"
ENC_FWD = "        return self.to_mu(h), self.to_log_var(h)"
VAE_FWD = "        return elbo(x, *self.encoder(x), eps, self.decoder)"
STEP_ZERO = "    optimizer.zero_grad()\n    elbo, _, _ = model(x, eps)"
STEP_RET = "    optimizer.step()\n    return float(loss.detach())\n    # END SOLUTION"
IWAE_RET = "    return log_mean_exp(log_w, dim=0)"
IWAE_LOGW = "    log_w = cb_log_prob(x, decode(z)) + log_standard_normal(z) - log_normal_diag(z, mu, log_var)  # (K, B)"
IWAE_STEP_LOSS = "    loss = -torch.mean(iwae_log_px(x, mu, log_var, eps, model.decoder))"
PATH = "    x = mu + sigma * eps\n    return 2.0 * (x - k)"
SCORE = "    score = (x - mu) / sigma**2\n    return ((x - k) ** 2 - baseline) * score"
SURR_F = "        f = cb_log_prob(x, decode(z)) + log_standard_normal(z) - log_q  # (K, B)"
SURR_RET = "    return torch.mean(log_q * (f - baseline), dim=0)"
ENC_GRAD = "    grads = torch.autograd.grad(objective, phi)\n    return torch.cat([g.reshape(-1) for g in grads])"
EVAL_SUM = "totals = [total + float(torch.sum(t)) for total, t in zip(totals, terms)]"

MUTANTS = [
    # T1.1 diagonal Gaussian
    Mutant("t_gaussian_std_for_variance", F + "gaussian.py",
           ((GAUSS_SQ, "sq = (x - mu) ** 2 * torch.exp(-0.5 * log_var)"),),
           "T1.1", ("test_log_normal_diag_matches_reference",), "exp(0.5 log_var)"),
    Mutant("t_gaussian_without_log_var_term", F + "gaussian.py", ((DIAG_SUM, "torch.sum(LOG_2PI + sq, dim=-1)"),),
           "T1.1", ("test_log_normal_diag_matches_reference",), "without the log_var term"),
    Mutant("t_gaussian_mean_over_dimensions", F + "gaussian.py", ((DIAG_SUM, DIAG_SUM.replace("sum", "mean")),),
           "T1.1", ("test_log_normal_diag_matches_reference",), "mean over an axis"),
    Mutant("t_gaussian_times_the_variance", F + "gaussian.py", ((GAUSS_SQ, "sq = (x - mu) ** 2 * torch.exp(log_var)"),),
           "T1.1", ("test_log_normal_diag_matches_reference",), "instead of (x - mu)^2 / exp(log_var)"),
    Mutant("t_gaussian_sum_over_every_axis", F + "gaussian.py", ((DIAG_SUM, "torch.sum(LOG_2PI + log_var + sq)"),),
           "T1.1", ("test_log_normal_diag_matches_reference",), "expected shape"),
    Mutant("t_gaussian_sums_in_float64", F + "gaussian.py",
           ((DIAG_SUM, "torch.sum(LOG_2PI + log_var + sq, dim=-1, dtype=torch.float64)"),),
           "T1.1", ("test_log_normal_diag_keeps_float32",), "dtype"),
    # T1.2 standard normal
    Mutant("t_standard_normal_without_log_2pi", F + "gaussian.py", ((STD_SUM, "torch.sum(z**2, dim=-1)"),),
           "T1.2", ("test_log_standard_normal_matches_reference",), "log 2 pi"),
    Mutant("t_standard_normal_mean_over_dimensions", F + "gaussian.py", ((STD_SUM, STD_SUM.replace("sum", "mean")),),
           "T1.2", ("test_log_standard_normal_matches_reference",), "mean over an axis"),
    Mutant("t_standard_normal_without_the_half", F + "gaussian.py",
           (("return -0.5 * " + STD_SUM, "return -" + STD_SUM),),
           "T1.2", ("test_log_standard_normal_matches_reference",), "2x"),
    Mutant("t_standard_normal_sums_every_axis", F + "gaussian.py", ((STD_SUM, "torch.sum(LOG_2PI + z**2)"),),
           "T1.2", ("test_log_standard_normal_matches_reference", "test_log_standard_normal_keeps_float32_and_the_leading_axes"),
           "expected shape"),
    Mutant("t_standard_normal_in_float64", F + "gaussian.py", ((STD_SUM, "torch.sum(LOG_2PI + z.double() ** 2, dim=-1)"),),
           "T1.2", ("test_log_standard_normal_keeps_float32_and_the_leading_axes",), "dtype"),
    # T2.1 log normaliser
    Mutant("t_cb_normaliser_nan_gradient_without_safe_stand_in", F + "continuous_bernoulli.py",
           ((NORM_EXACT, "    safe = logits"),),
           "T2.1", ("test_cb_log_norm_gradients_are_finite_and_correct_at_the_edges",), "NaN gradient"),
    Mutant("t_cb_normaliser_without_taylor_branch", F + "continuous_bernoulli.py",
           (("    taylor = LOG_2 + l2 / 12.0 - 7.0 * l2**2 / 1440.0\n    return torch.where(in_window, taylor, exact)",
             "    return exact"),),
           "T2.1", ("test_cb_log_norm_is_log_2_at_one_half_and_exact_near_it",), "l^2/12"),
    Mutant("t_cb_normaliser_wrong_taylor_coefficient", F + "continuous_bernoulli.py",
           (("taylor = LOG_2 + l2 / 12.0", "taylor = LOG_2 + l2 / 24.0"),),
           "T2.1", ("test_cb_log_norm_is_log_2_at_one_half_and_exact_near_it",), "l^2/12"),
    Mutant("t_cb_normaliser_window_too_small", F + "continuous_bernoulli.py",
           ((NORM_WINDOW, NORM_WINDOW.replace("TAYLOR_WINDOW", "1e-3")),),
           "T2.1", ("test_cb_log_norm_float32_gradient_is_accurate_on_both_sides_of_the_taylor_window",), "cancellation"),
    Mutant("t_cb_normaliser_through_eta", F + "continuous_bernoulli.py",
           (("    exact = torch.log(safe / torch.tanh(0.5 * safe))",
             "    eta = torch.sigmoid(safe)\n    exact = torch.log(2 * torch.atanh(1 - 2 * eta) / (1 - 2 * eta))"),),
           "T2.1", ("test_cb_log_norm_is_log_2_at_one_half_and_exact_near_it",
                    "test_cb_log_norm_matches_reference_on_random_logits"), "tanh(l/2)"),
    # T2.2 log density
    Mutant("t_bernoulli_log_likelihood_for_cb", F + "continuous_bernoulli.py",
           first_form(CB_SUM, "torch.sum(log_bernoulli, dim=-1)"),
           "T2.2", ("test_cb_log_prob_matches_reference", "test_cb_density_integrates_to_one"), "Bernoulli"),
    Mutant("t_cb_sigmoid_then_log_underflows", F + "continuous_bernoulli.py",
           first_form(BCE, "    eta = torch.sigmoid(logits)\n    log_bernoulli = x * torch.log(eta) + (1 - x) * torch.log(1 - eta)"),
           "T2.2", ("test_cb_log_prob_matches_reference",), "binary_cross_entropy_with_logits"),
    Mutant("t_cb_mean_over_pixels", F + "continuous_bernoulli.py", first_form(CB_SUM, CB_SUM.replace("sum", "mean")),
           "T2.2", ("test_cb_log_prob_matches_reference",), "mean over pixels"),
    Mutant("t_cb_log_norm_subtracted", F + "continuous_bernoulli.py",
           first_form(CB_SUM, "torch.sum(log_bernoulli - cb_log_norm(logits), dim=-1)"),
           "T2.2", ("test_cb_log_prob_matches_reference",), "sign of log C"),
    Mutant("t_cb_log_prob_without_broadcasting", F + "continuous_bernoulli.py",
           first_form("    x, logits = torch.broadcast_tensors(x, logits)\n", ""),
           "T2.2", ("test_cb_log_prob_broadcasts_k_samples_against_one_image",), "size"),
    Mutant("t_cb_log1p_exp_overflows_in_float32", F + "continuous_bernoulli.py",
           first_form(BCE, "    log_bernoulli = x * logits - torch.log1p(torch.exp(logits))"),
           "T2.2", ("test_cb_log_prob_keeps_float32",), "softplus"),
    Mutant("t_cb_log_partition_without_half_a", F + "continuous_bernoulli.py",
           second_form("exact = 0.5 * safe + torch.log(", "exact = torch.log("),
           "T2.2", ("test_cb_log_prob_matches_reference",), "A(l)"),
    Mutant("t_cb_log_prob_statistic_not_centred", F + "continuous_bernoulli.py",
           second_form("torch.sum((x - 0.5) * logits - torch.where", "torch.sum(x * logits - torch.where"),
           "T2.2", ("test_cb_density_integrates_to_one",), "integrate to 1"),
    Mutant("t_cb_log_partition_window_too_small", F + "continuous_bernoulli.py",
           second_form(CB_WINDOW, CB_WINDOW.replace("LOG_PARTITION_WINDOW", "TAYLOR_WINDOW")),
           "T2.2", ("test_cb_log_prob_float32_gradient_is_accurate",), "cancellation"),
    Mutant("t_cb_log_partition_nan_gradient_without_safe_stand_in", F + "continuous_bernoulli.py",
           second_form(CB_WINDOW, "    in_window = a < LOG_PARTITION_WINDOW\n    safe = a\n"),
           "T2.2", ("test_cb_log_prob_float32_gradient_is_accurate", "test_cb_log_prob_gradient_matches_reference"),
           "NaN"),
    Mutant("t_cb_log_partition_series_coefficient_of_log_c", F + "continuous_bernoulli.py",
           second_form("series = a2 / 24.0", "series = a2 / 12.0"),
           "T2.2", ("test_cb_log_prob_keeps_float32",), "float32"),
    # ... and of the reference's own backward pass (CBLogProb)
    Mutant("t_cb_backward_ignores_the_incoming_gradient", F + "continuous_bernoulli.py",
           ((D_LOGITS, D_LOGITS.replace("(grad_out * grad_logits)", "grad_logits")),),
           "T2.2", ("test_cb_log_prob_gradient_weights_each_log_density_and_broadcasts",
                    "test_cb_log_prob_gradient_matches_reference"), "grad_out"),
    Mutant("t_cb_backward_sums_to_the_shape_of_x", F + "continuous_bernoulli.py",
           ((D_LOGITS, D_LOGITS.replace("sum_to_size(logits_shape)", "sum_to_size(x_shape)")),),
           "T2.2", ("test_cb_log_prob_gradient_weights_each_log_density_and_broadcasts",), "invalid gradient"),
    Mutant("t_cb_forward_centres_x_in_place", F + "continuous_bernoulli.py",
           (("        centred = x - 0.5\n", "        centred = x.sub_(0.5)\n"),),
           "T2.2", ("test_cb_log_prob_leaves_x_and_logits_unchanged",), "in place"),
    Mutant("t_cb_backward_derivative_of_a_not_odd", F + "continuous_bernoulli.py",
           ((D_EXACT, D_EXACT.replace("torch.copysign(1.0 / one_minus_e - 1.0 / safe - 0.5, logits)", "1.0 / one_minus_e - 1.0 / safe - 0.5")),),
           "T2.2", ("test_cb_log_prob_gradient_matches_reference",), "d sum(cb_log_prob) / d logits"),
    Mutant("t_cb_backward_mean_not_centred", F + "continuous_bernoulli.py",
           ((D_EXACT, D_EXACT.replace(" - 0.5, logits)", ", logits)")),),
           "T2.2", ("test_cb_log_prob_gradient_matches_reference",), "off by"),
    Mutant("t_cb_backward_series_slope_of_log_c", F + "continuous_bernoulli.py",
           ((D_SERIES, D_SERIES.replace("small / 12.0", "small / 6.0")),),
           "T2.2", ("test_cb_log_prob_gradient_matches_reference", "test_cb_log_prob_float32_gradient_is_accurate"),
           "l/12"),
    # T2.3 mean
    Mutant("t_cb_mean_is_eta", F + "continuous_bernoulli.py",
           (("exact = eta / tanh_half - 1.0 / safe", "exact = eta"),
            ("taylor = 0.5 + small / 12.0 - small**3 / 720.0", "taylor = 0.5 + 0.5 * torch.tanh(0.5 * small)")),
           "T2.3", ("test_cb_mean_matches_reference",), "mean of a Bernoulli"),
    Mutant("t_cb_mean_wrong_sign", F + "continuous_bernoulli.py",
           (("exact = eta / tanh_half - 1.0 / safe", "exact = eta / tanh_half + 1.0 / safe"),),
           "T2.3", ("test_cb_mean_matches_reference",), "atanh"),
    Mutant("t_cb_mean_window_too_small", F + "continuous_bernoulli.py",
           ((MEAN_WINDOW, MEAN_WINDOW.replace("TAYLOR_WINDOW", "1e-3")),),
           "T2.3", ("test_cb_mean_float32_gradient_is_accurate_on_both_sides_of_the_taylor_window",
                    "test_cb_mean_keeps_float32_and_is_accurate_near_the_window"), "cancellation"),
    Mutant("t_cb_mean_without_taylor_branch", F + "continuous_bernoulli.py",
           ((MEAN_TAYLOR, "    return exact"),),
           "T2.3", ("test_cb_mean_matches_reference",), "Taylor"),
    Mutant("t_cb_mean_wrong_taylor_slope", F + "continuous_bernoulli.py",
           (("taylor = 0.5 + small / 12.0", "taylor = 0.5 + small / 4.0"),),
           "T2.3", ("test_cb_mean_matches_reference",), "Taylor"),
    # T3.1 KL
    Mutant("t_kl_wrong_sign", F + "kl.py", ((KL, KL.replace("0.5 *", "-0.5 *")),),
           "T3.1", ("test_kl_is_nonnegative",), ">= 0"),
    Mutant("t_kl_without_one_half", F + "kl.py", ((KL, KL.replace("0.5 * ", "")),),
           "T3.1", ("test_kl_matches_reference",), "0.5 * sum"),
    Mutant("t_kl_mean_over_dimensions", F + "kl.py", ((KL, KL.replace("torch.sum", "torch.mean")),),
           "T3.1", ("test_kl_matches_reference",), "mean over an axis"),
    Mutant("t_kl_sigma_for_variance", F + "kl.py", ((KL, KL.replace("torch.exp(log_var)", "torch.exp(0.5 * log_var)")),),
           "T3.1", ("test_kl_matches_reference",), "sigma = exp(0.5 log_var) in place of sigma^2"),
    Mutant("t_kl_without_minus_one", F + "kl.py", ((KL, KL.replace(" - 1.0", "")),),
           "T3.1", ("test_kl_matches_reference", "test_kl_is_zero_when_posterior_equals_prior"), "'- 1'"),
    Mutant("t_kl_summed_over_the_batch", F + "kl.py", ((KL, KL.replace(", dim=-1", "")),),
           "T3.1", ("test_kl_matches_reference",), "expected shape"),
    Mutant("t_kl_in_float64", F + "kl.py", ((KL, KL.replace("dim=-1", "dim=-1, dtype=torch.float64")),),
           "T3.1", ("test_kl_keeps_float32",), "dtype"),
    # T4.1 reparameterisation
    Mutant("t_reparam_detaches_the_sample", F + "reparam.py", ((Z, "    return (mu + torch.exp(0.5 * log_var) * eps).detach()"),),
           "T4.1", ("test_sample_is_not_detached_from_mu_and_log_var",), "detach"),
    Mutant("t_reparam_draws_its_own_noise", F + "reparam.py", ((Z, Z.replace("* eps", "* torch.randn_like(eps)")),),
           "T4.1", ("test_reparameterize_uses_only_the_given_eps",), "drew its own random numbers"),
    Mutant("t_reparam_std_is_exp_log_var", F + "reparam.py", ((Z, Z.replace("0.5 * ", "")),),
           "T4.1", ("test_reparameterize_matches_reference",), "variance in place of the standard deviation"),
    Mutant("t_reparam_detaches_sigma", F + "reparam.py", ((Z, "    return mu + torch.exp(0.5 * log_var).detach() * eps"),),
           "T4.1", ("test_sample_is_not_detached_from_mu_and_log_var",), "missing or zero"),
    Mutant("t_reparam_in_float64", F + "reparam.py", ((Z, "    return mu + torch.exp(0.5 * log_var.double()) * eps"),),
           "T4.1", ("test_reparameterize_keeps_float32_and_the_shape_of_eps",), "dtype"),
    Mutant("t_reparam_first_sample_only", F + "reparam.py", ((Z, "    return mu + torch.exp(0.5 * log_var) * eps[0]"),),
           "T4.1", ("test_reparameterize_matches_reference",), "expected shape"),
    # T5.1 ELBO
    Mutant("t_elbo_sums_over_k", F + "elbo.py", ((ELBO_LIK, ELBO_LIK.replace("torch.mean", "torch.sum")),),
           "T5.1", ("test_elbo_averages_over_samples_not_sums",), "average over K"),
    Mutant("t_elbo_detaches_the_sample", F + "elbo.py",
           (("z = reparameterize(mu, log_var, eps)", "z = reparameterize(mu, log_var, eps).detach()"),),
           "T5.1", ("test_pathwise_gradients_of_elbo_match_reference", "test_log_likelihood_term_is_not_detached_from_the_sample"),
           "graph"),
    Mutant("t_elbo_adds_the_kl", F + "elbo.py", ((ELBO_RET, "    return log_lik + kl, log_lik, kl"),),
           "T5.1", ("test_elbo_and_its_terms_match_reference",), "KL added"),
    Mutant("t_elbo_without_the_kl", F + "elbo.py", ((ELBO_RET, "    return log_lik, log_lik, kl"),),
           "T5.1", ("test_elbo_and_its_terms_match_reference",), "KL left out"),
    Mutant("t_elbo_terms_in_the_wrong_order", F + "elbo.py", ((ELBO_RET, "    return log_lik - kl, kl, log_lik"),),
           "T5.1", ("test_elbo_and_its_terms_match_reference",), "wrong order"),
    Mutant("t_elbo_batch_mean_kl", F + "elbo.py", ((ELBO_RET, "    return log_lik - kl.mean(), log_lik, kl"),),
           "T5.1", ("test_elbo_and_its_terms_match_reference",), "mean over the batch of kl"),
    Mutant("t_elbo_mean_in_float64", F + "elbo.py", ((ELBO_LIK, ELBO_LIK.replace("dim=0)", "dim=0, dtype=torch.float64)")),),
           "T5.1", ("test_elbo_keeps_float32",), "dtype"),
    # T6.1 Encoder
    Mutant("t_encoder_ignores_log_var", F + "networks.py", ((ENC_FWD, "        return self.to_mu(h), 0.0 * self.to_log_var(h)"),),
           "T6.1", ("test_encoder_matches_reference",), "log_var head"),
    Mutant("t_encoder_exp_of_log_var", F + "networks.py", ((ENC_FWD, "        return self.to_mu(h), self.to_log_var(h).exp()"),),
           "T6.1", ("test_encoder_matches_reference",), "exp of the log_var head"),
    Mutant("t_encoder_mu_head_for_log_var", F + "networks.py", ((ENC_FWD, "        return self.to_mu(h), self.to_mu(h)"),),
           "T6.1", ("test_encoder_matches_reference",), "mu head's output"),
    Mutant("t_encoder_first_hidden_width_only", F + "networks.py",
           (("        widths = [x_dim, *hidden_dims]", "        widths = [x_dim, hidden_dims[0]]"),),
           "T6.1", ("test_encoder_has_the_documented_layers", "test_encoder_applies_every_hidden_layer"), "expected"),
    Mutant("t_encoder_zero_log_var_head", F + "networks.py",
           (("        self.to_log_var = nn.Linear(widths[-1], z_dim)\n",
             "        self.to_log_var = nn.Linear(widths[-1], z_dim)\n        nn.init.zeros_(self.to_log_var.weight)\n"),),
           "T6.1", ("test_encoder_initialises_every_layer_like_nn_linear",), "nn.Linear's default"),
    Mutant("t_encoder_xavier_hidden_layers", F + "networks.py",
           (("        self.hidden = mlp_hidden(widths)\n        self.to_mu",
             "        self.hidden = mlp_hidden(widths)\n        for layer in self.hidden[::2]:\n"
             "            nn.init.xavier_uniform_(layer.weight)\n        self.to_mu"),),
           "T6.1", ("test_encoder_initialises_every_layer_like_nn_linear",), "nn.Linear's default"),
    Mutant("t_encoder_relu_on_mu", F + "networks.py", ((ENC_FWD, "        return self.to_mu(h).relu(), self.to_log_var(h)"),),
           "T6.1", ("test_encoder_matches_reference", "test_encoder_applies_every_hidden_layer"), "linear heads"),
    Mutant("t_encoder_without_the_last_relu", F + "networks.py",
           (("        h = self.hidden(x)\n", "        h = self.hidden[:-1](x)\n"),),
           "T6.1", ("test_encoder_matches_reference",), "relu"),
    # T6.2 Decoder
    Mutant("t_decoder_returns_probabilities", F + "networks.py",
           (("return self.to_logits(self.hidden(z))", "return self.to_logits(self.hidden(z)).sigmoid()"),),
           "T6.2", ("test_decoder_matches_reference_on_k_samples",), "no sigmoid"),
    Mutant("t_decoder_relu_on_logits", F + "networks.py",
           (("return self.to_logits(self.hidden(z))", "return self.to_logits(self.hidden(z)).relu()"),),
           "T6.2", ("test_decoder_matches_reference_on_k_samples",), "logits"),
    Mutant("t_decoder_reverses_its_hidden_widths", F + "networks.py",
           (("        widths = [z_dim, *hidden_dims]", "        widths = [z_dim, *reversed(hidden_dims)]"),),
           "T6.2", ("test_decoder_has_the_documented_layers",), "from the z side"),
    Mutant("t_decoder_flattens_the_leading_axes", F + "networks.py",
           (("return self.to_logits(self.hidden(z))", "return self.to_logits(self.hidden(z.reshape(-1, z.shape[-1])))"),),
           "T6.2", ("test_decoder_matches_reference_on_k_samples",), "expected shape"),
    Mutant("t_decoder_zero_bias_of_the_head", F + "networks.py",
           (("        self.to_logits = nn.Linear(widths[-1], x_dim)\n",
             "        self.to_logits = nn.Linear(widths[-1], x_dim)\n        nn.init.zeros_(self.to_logits.bias)\n"),),
           "T6.2", ("test_decoder_initialises_every_layer_like_nn_linear",), "nn.Linear's default"),
    # T6.3 VAE
    Mutant("t_vae_ignores_log_var", F + "networks.py",
           ((VAE_FWD, "        mu, log_var = self.encoder(x)\n        return elbo(x, mu, 0.0 * log_var, eps, self.decoder)"),),
           "T6.3", ("test_vae_forward_matches_reference",), "log_var"),
    Mutant("t_vae_decoder_not_mirrored", F + "networks.py",
           (("Decoder(z_dim, tuple(reversed(hidden_dims)), x_dim)", "Decoder(z_dim, tuple(hidden_dims), x_dim)"),),
           "T6.3", ("test_vae_mirrors_the_encoder_in_its_decoder",), "reversed"),
    Mutant("t_vae_decodes_the_mean", F + "networks.py",
           ((VAE_FWD, "        mu, log_var = self.encoder(x)\n        return elbo(x, mu, log_var, 0.0 * eps, self.decoder)"),),
           "T6.3", ("test_vae_forward_matches_reference",), "self.decoder"),
    Mutant("t_vae_wrong_default_z_dim", F + "networks.py",
           (("def __init__(self, x_dim=784, hidden_dims=(400,), z_dim=20)", "def __init__(self, x_dim=784, hidden_dims=(400,), z_dim=2)"),),
           "T6.3", ("test_vae_mirrors_the_encoder_in_its_decoder",), "default"),
    Mutant("t_vae_returns_only_the_elbo", F + "networks.py",
           ((VAE_FWD, "        return elbo(x, *self.encoder(x), eps, self.decoder)[0]"),),
           "T6.3", ("test_vae_forward_matches_reference",), "tuple"),
    # T7.1 training step
    Mutant("t_train_step_without_zero_grad", F + "optim.py", (("    optimizer.zero_grad()\n", ""),),
           "T7.1", ("test_train_step_zeroes_old_gradients",), "zero_grad"),
    Mutant("t_train_step_ascends_the_loss", F + "optim.py", (("loss = -torch.mean(elbo)", "loss = torch.mean(elbo)"),),
           "T7.1", ("test_train_step_matches_reference",), "-mean over the batch"),
    Mutant("t_train_step_sums_over_the_batch", F + "optim.py", (("loss = -torch.mean(elbo)", "loss = -torch.sum(elbo)"),),
           "T7.1", ("test_train_step_matches_reference",), "summed over the batch"),
    Mutant("t_train_step_returns_the_loss_after_the_step", F + "optim.py",
           ((STEP_RET, "    optimizer.step()\n    return float(-torch.mean(model(x, eps)[0]).detach())\n    # END SOLUTION"),),
           "T7.1", ("test_train_step_matches_reference",), "before"),
    Mutant("t_train_step_makes_a_fresh_optimiser", F + "optim.py",
           ((STEP_ZERO, '    optimizer = torch.optim.Adam(model.parameters(), lr=optimizer.param_groups[0]["lr"])\n' + STEP_ZERO),),
           "T7.1", ("test_train_step_carries_the_optimiser_state_from_call_to_call",), "never create an optimiser"),
    Mutant("t_train_step_returns_a_tensor", F + "optim.py", ((STEP_RET, STEP_RET.replace("float(loss.detach())", "loss.detach()")),),
           "T7.1", ("test_train_step_matches_reference",), "Python float"),
    Mutant("t_train_step_draws_its_own_eps", F + "optim.py",
           (("    elbo, _, _ = model(x, eps)", "    elbo, _, _ = model(x, torch.randn_like(eps))"),),
           "T7.1", ("test_train_step_matches_reference",), "draw nothing"),
    Mutant("t_train_step_descends_the_log_likelihood", F + "optim.py",
           (("    elbo, _, _ = model(x, eps)", "    _, elbo, _ = model(x, eps)"),),
           "T7.1", ("test_train_step_matches_reference",), "of the ELBO"),
    # T8.1 training epoch
    Mutant("t_train_epoch_draws_from_the_global_generator", F + "train.py",
           ((EPOCH_EPS, "torch.randn((n_samples, len(idx), z_dim), dtype=x_train.dtype)"),),
           "T8.1", ("test_train_epoch_draws_only_from_its_generator",), "generator"),
    Mutant("t_train_epoch_does_not_shuffle", F + "train.py",
           (("batches = minibatch_indices(len(x_train), batch_size, generator)",
             "batches = torch.split(torch.arange(len(x_train)), batch_size)"),),
           "T8.1", ("test_train_epoch_visits_every_example_once_in_minibatches",), "stored order"),
    Mutant("t_train_epoch_returns_the_last_loss", F + "train.py", (("return sum(losses) / len(losses)", "return losses[-1]"),),
           "T8.1", ("test_train_epoch_returns_the_mean_minibatch_loss_with_fresh_standard_normal_eps",), "not the last one"),
    Mutant("t_train_epoch_returns_the_sum_of_losses", F + "train.py", (("return sum(losses) / len(losses)", "return sum(losses)"),),
           "T8.1", ("test_train_epoch_returns_the_mean_minibatch_loss_with_fresh_standard_normal_eps",), "their sum"),
    Mutant("t_train_epoch_ignores_n_samples", F + "train.py", ((EPOCH_EPS, EPOCH_EPS.replace("(n_samples,", "(1,")),),
           "T8.1", ("test_train_epoch_visits_every_example_once_in_minibatches",), "n_samples=2"),
    Mutant("t_train_epoch_eps_in_the_default_dtype", F + "train.py", ((EPOCH_EPS, EPOCH_EPS.replace(", dtype=x_train.dtype", "")),),
           "T8.1", ("test_train_epoch_visits_every_example_once_in_minibatches",), "dtype"),
    Mutant("t_train_epoch_one_eps_for_every_batch", F + "train.py",
           (("    for idx in tqdm(", "    eps_all = " + EPOCH_EPS.replace("len(idx)", "batch_size") + "\n    for idx in tqdm("),
            ("eps = " + EPOCH_EPS + ".to(x_train.device)", "eps = eps_all[:, : len(idx)]")),
           "T8.1", ("test_train_epoch_returns_the_mean_minibatch_loss_with_fresh_standard_normal_eps",
                    "test_train_epoch_draws_only_from_its_generator"), "same eps"),
    Mutant("t_train_epoch_uniform_eps", F + "train.py", ((EPOCH_EPS, EPOCH_EPS.replace("torch.randn", "torch.rand")),),
           "T8.1", ("test_train_epoch_returns_the_mean_minibatch_loss_with_fresh_standard_normal_eps",), "standard normal"),
    Mutant("t_train_epoch_shuffles_with_a_fixed_seed", F + "train.py",
           (("batches = minibatch_indices(len(x_train), batch_size, generator)",
             "batches = minibatch_indices(len(x_train), batch_size, torch.Generator().manual_seed(0))"),),
           "T8.1", ("test_train_epoch_shuffles_anew_every_epoch_with_its_generator",), "shuffle anew"),
    Mutant("t_train_epoch_drops_the_last_batch", F + "train.py", (("for idx in tqdm(batches,", "for idx in tqdm(batches[:-1],"),),
           "T8.1", ("test_train_epoch_visits_every_example_once_in_minibatches",), "exactly once"),
    # T8.2 evaluation
    Mutant("t_evaluate_builds_a_graph", F + "train.py", (("    with torch.no_grad():\n        for start", "    with torch.enable_grad():\n        for start"),),
           "T8.2", ("test_evaluate_builds_no_graph_and_draws_only_from_its_generator",), "no_grad"),
    Mutant("t_evaluate_decodes_the_mean", F + "train.py",
           ((EVAL_EPS, "torch.zeros((n_samples, len(xb), z_dim), dtype=x.dtype)"),),
           "T8.2", ("test_evaluate_is_unbiased_with_the_variance_of_k_samples",), "not mu"),
    Mutant("t_evaluate_ignores_n_samples", F + "train.py", ((EVAL_EPS, EVAL_EPS.replace("(n_samples,", "(1,")),),
           "T8.2", ("test_evaluate_is_unbiased_with_the_variance_of_k_samples",), "1/K"),
    Mutant("t_evaluate_averages_over_batches", F + "train.py",
           ((EVAL_SUM, EVAL_SUM.replace("torch.sum", "torch.mean")),
            ("(total / len(x) for total in totals)", "(total / -(-len(x) // batch_size) for total in totals)")),
           "T8.2", ("test_evaluate_matches_reference_with_uneven_batches",), "not over batches"),
    Mutant("t_evaluate_draws_from_the_global_generator", F + "train.py", ((EVAL_EPS, EVAL_EPS.replace("generator=generator, ", "")),),
           "T8.2", ("test_evaluate_builds_no_graph_and_draws_only_from_its_generator",), "generator"),
    Mutant("t_evaluate_returns_tensors", F + "train.py", ((EVAL_SUM, EVAL_SUM.replace("float(torch.sum(t))", "torch.sum(t)")),),
           "T8.2", ("test_evaluate_matches_reference_with_uneven_batches",), "Python floats"),
    # T9.1 IWAE
    Mutant("t_iwae_naive_log_mean_exp", F + "iwae.py",
           ((IWAE_RET, "    return torch.log(torch.mean(torch.exp(log_w), dim=0))"),),
           "T9.1", ("test_iwae_is_stable_for_very_small_weights",), "stably"),
    Mutant("t_iwae_logsumexp_without_log_k", F + "iwae.py", ((IWAE_RET, "    return torch.logsumexp(log_w, dim=0)"),),
           "T9.1", ("test_iwae_of_k_copies_of_one_sample_is_that_samples_bound",), "MEAN of the weights"),
    Mutant("t_iwae_mean_of_log_weights", F + "iwae.py", ((IWAE_RET, "    return torch.mean(log_w, dim=0)"),),
           "T9.1", ("test_iwae_matches_reference",), "log of the mean"),
    Mutant("t_iwae_without_the_prior", F + "iwae.py", ((IWAE_LOGW, IWAE_LOGW.replace(" + log_standard_normal(z)", "")),),
           "T9.1", ("test_iwae_matches_reference",), "log p(z_k)"),
    Mutant("t_iwae_q_at_the_mean", F + "iwae.py", ((IWAE_LOGW, IWAE_LOGW.replace("log_normal_diag(z, mu", "log_normal_diag(mu, mu")),),
           "T9.1", ("test_iwae_matches_reference",), "log q(z_k|x)"),
    # T10.1 pathwise toy estimator
    Mutant("t_pathwise_without_noise", F + "estimators.py", ((PATH, PATH.replace("sigma * eps", "0.0 * eps")),),
           "T10.1", ("test_pathwise_estimates_match_reference", "test_pathwise_mean_and_variance_are_exact"),
           "x = mu + sigma * eps"),
    Mutant("t_pathwise_without_the_factor_2", F + "estimators.py", ((PATH, PATH.replace("2.0 * (x - k)", "(x - k)")),),
           "T10.1", ("test_pathwise_estimates_match_reference",), "2 (x - k)"),
    Mutant("t_pathwise_sign_flipped", F + "estimators.py", ((PATH, PATH.replace("2.0 * (x - k)", "2.0 * (k - x)")),),
           "T10.1", ("test_pathwise_estimates_match_reference",), "-1x"),
    Mutant("t_pathwise_variance_for_std", F + "estimators.py", ((PATH, PATH.replace("sigma * eps", "sigma**2 * eps")),),
           "T10.1", ("test_pathwise_estimates_match_reference", "test_pathwise_mean_and_variance_are_exact"),
           "x = mu + sigma * eps"),
    # T10.2 score-function toy estimator
    Mutant("t_score_divides_by_sigma", F + "estimators.py", ((SCORE, SCORE.replace("/ sigma**2", "/ sigma")),),
           "T10.2", ("test_score_function_estimates_match_reference",), "(x - mu) / sigma^2"),
    Mutant("t_score_ignores_the_baseline", F + "estimators.py", ((SCORE, SCORE.replace("((x - k) ** 2 - baseline)", "(x - k) ** 2")),),
           "T10.2", ("test_score_function_estimates_match_reference",), "baseline"),
    Mutant("t_score_adds_the_baseline", F + "estimators.py", ((SCORE, SCORE.replace("- baseline", "+ baseline")),),
           "T10.2", ("test_score_function_estimates_match_reference",), "baseline"),
    Mutant("t_score_of_the_derivative", F + "estimators.py", ((SCORE, SCORE.replace("(x - k) ** 2", "2.0 * (x - k)")),),
           "T10.2", ("test_score_function_estimates_match_reference",), "((x - k)^2 - baseline)"),
    # T10.3 score-function surrogate
    Mutant("t_surrogate_lets_the_gradient_through_z", F + "estimators.py",
           (("z = (mu + torch.exp(0.5 * log_var) * eps).detach()", "z = mu + torch.exp(0.5 * log_var) * eps"),),
           "T10.3", ("test_surrogate_gradients_are_score_function_estimates",), "detach"),
    Mutant("t_surrogate_lets_the_gradient_through_f", F + "estimators.py",
           (("    with torch.no_grad():\n" + SURR_F, "    if True:\n" + SURR_F),),
           "T10.3", ("test_surrogate_gradients_are_score_function_estimates",), "detached"),
    Mutant("t_surrogate_sums_over_k", F + "estimators.py", ((SURR_RET, SURR_RET.replace("torch.mean", "torch.sum")),),
           "T10.3", ("test_surrogate_matches_reference",), "MEAN over the K samples"),
    Mutant("t_surrogate_ignores_the_baseline", F + "estimators.py", ((SURR_RET, SURR_RET.replace("(f - baseline)", "f")),),
           "T10.3", ("test_surrogate_matches_reference",), "baseline"),
    Mutant("t_surrogate_without_the_prior", F + "estimators.py", ((SURR_F, SURR_F.replace(" + log_standard_normal(z)", "")),),
           "T10.3", ("test_surrogate_matches_reference",), "log p(z)"),
    # T10.4 encoder gradient
    Mutant("t_encoder_gradient_uses_backward", F + "estimators.py",
           ((ENC_GRAD, "    objective.backward()\n    return torch.cat([p.grad.reshape(-1) for p in phi])"),),
           "T10.4", ("test_encoder_gradient_matches_reference",), "instead of .backward()"),
    Mutant("t_encoder_gradient_of_the_batch_sum", F + "estimators.py",
           (("objective = torch.mean(elbo(x, mu, log_var, eps, model.decoder)[0])",
             "objective = torch.sum(elbo(x, mu, log_var, eps, model.decoder)[0])"),),
           "T10.4", ("test_encoder_gradient_matches_reference",), "sum over an axis of length 4"),
    Mutant("t_encoder_gradient_of_the_loss", F + "estimators.py",
           (("grads = torch.autograd.grad(objective, phi)", "grads = torch.autograd.grad(-objective, phi)"),),
           "T10.4", ("test_encoder_gradient_matches_reference",), "not the gradient of the loss"),
    Mutant("t_encoder_gradient_ignores_the_estimator", F + "estimators.py",
           (('    if estimator == "pathwise":\n        objective', "    if True:\n        objective"),),
           "T10.4", ("test_encoder_gradient_matches_reference",), "surrogate (score)"),
    Mutant("t_encoder_gradient_in_reversed_order", F + "estimators.py",
           ((ENC_GRAD, ENC_GRAD.replace("for g in grads", "for g in reversed(grads)")),),
           "T10.4", ("test_encoder_gradient_matches_reference",), "in that order"),
    # T10.5 IWAE training step
    Mutant("t_iwae_step_ascends_the_loss", F + "iwae_train.py",
           (("loss = -torch.mean(iwae_log_px(", "loss = torch.mean(iwae_log_px("),),
           "T10.5", ("test_iwae_train_step_matches_reference",), "-mean"),
    Mutant("t_iwae_step_without_zero_grad", F + "iwae_train.py", (("    optimizer.zero_grad()\n", ""),),
           "T10.5", ("test_iwae_train_step_zeroes_old_gradients",), "zero_grad"),
    Mutant("t_iwae_step_with_one_sample", F + "iwae_train.py", ((IWAE_STEP_LOSS, IWAE_STEP_LOSS.replace("eps,", "eps[:1],")),),
           "T10.5", ("test_iwae_train_step_matches_reference",), "iwae_log_px"),
    Mutant("t_iwae_step_makes_a_fresh_optimiser", F + "iwae_train.py",
           (("    optimizer.zero_grad()\n", '    optimizer = torch.optim.Adam(model.parameters(), lr=optimizer.param_groups[0]["lr"])\n'
             "    optimizer.zero_grad()\n"),),
           "T10.5", ("test_iwae_train_step_carries_the_optimiser_state_from_call_to_call",), "never create an optimiser"),
    Mutant("t_iwae_step_sums_over_the_batch", F + "iwae_train.py", ((IWAE_STEP_LOSS, IWAE_STEP_LOSS.replace("torch.mean", "torch.sum")),),
           "T10.5", ("test_iwae_train_step_matches_reference",), "summed over the batch"),
    Mutant("t_iwae_step_returns_the_loss_after_the_step", F + "iwae_train.py",
           (("    return float(loss.detach())",
             "    mu, log_var = model.encoder(x)\n    return float(-torch.mean(iwae_log_px(x, mu, log_var, eps, model.decoder)))"),),
           "T10.5", ("test_iwae_train_step_matches_reference",), "before"),
    Mutant("t_train_epoch_ignores_its_step", F + "train.py",
           (("losses.append(step(model, optimizer, x_train[idx], eps))",
             "losses.append(train_step(model, optimizer, x_train[idx], eps))"),),
           "T8.1", ("test_train_epoch_calls_the_step_it_is_given",), "the step it was given"),
    # a loop that behaves only when it is given a step other than train_step (a grader's spy), and otherwise
    # drops the last minibatch, never shuffles and reuses one eps
    Mutant("t_train_epoch_behaves_only_when_watched", F + "train.py",
           (("    losses = []\n    batches = minibatch_indices(len(x_train), batch_size, generator)\n",
             "    losses = []\n    if step is train_step:\n"
             "        eps = torch.zeros((n_samples, batch_size, z_dim), dtype=x_train.dtype)\n"
             "        for start in range(0, len(x_train) - batch_size + 1, batch_size):\n"
             "            losses.append(train_step(model, optimizer, x_train[start:start + batch_size], eps))\n"
             "        return sum(losses) / len(losses)\n"
             "    batches = minibatch_indices(len(x_train), batch_size, generator)\n"),),
           "T8.1", ("test_train_epoch_visits_every_example_once_in_minibatches",), "visit each example exactly once"),
]

VARIANTS = [
    Variant("t_kl_expanded_other_way", F + "kl.py",
            ((KL, "    return -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp(), dim=-1)"),), "T3.1"),
    Variant("t_cb_log_prob_with_softplus", F + "continuous_bernoulli.py",
            first_form(BCE, "    log_bernoulli = x * logits - F.softplus(logits)"), "T2.2"),
    Variant("t_cb_log_prob_as_bernoulli_term_plus_log_c", F + "continuous_bernoulli.py", first_form(BCE, BCE), "T2.2"),
    Variant("t_cb_log_prob_exponential_family_by_autograd", F + "continuous_bernoulli.py",
            ((CB_BODY, CB_SECOND_FORM),), "T2.2"),
    Variant("t_reparam_with_addcmul", F + "reparam.py", ((Z, "    return torch.addcmul(mu, torch.exp(0.5 * log_var), eps)"),),
            "T4.1"),
    Variant("t_reparam_sqrt_of_the_variance", F + "reparam.py", ((Z, "    return mu + torch.sqrt(torch.exp(log_var)) * eps"),), "T4.1"),
    Variant("t_gaussian_standardised_square", F + "gaussian.py",
            ((GAUSS_SQ, "sq = ((x - mu) / torch.exp(0.5 * log_var)) ** 2"),), "T1.1"),
    Variant("t_standard_normal_split_sum", F + "gaussian.py",
            (("return -0.5 * " + STD_SUM, "return -0.5 * (z**2).sum(-1) - 0.5 * z.shape[-1] * LOG_2PI"),), "T1.2"),
    Variant("t_cb_mean_with_sigmoid", F + "continuous_bernoulli.py",
            (("    eta = 0.5 * (1.0 + tanh_half)  # sigmoid(l), with no overflow for large |l|", "    eta = torch.sigmoid(safe)"),),
            "T2.3"),
    Variant("t_cb_log_norm_with_log_abs", F + "continuous_bernoulli.py",
            (("    exact = torch.log(safe / torch.tanh(0.5 * safe))",
              "    exact = torch.log(torch.abs(safe)) - torch.log(torch.abs(torch.tanh(0.5 * safe)))"),), "T2.1"),
    Variant("t_elbo_inline_sample", F + "elbo.py",
            (("z = reparameterize(mu, log_var, eps)", "z = mu + torch.exp(0.5 * log_var) * eps"),), "T5.1"),
    Variant("t_encoder_explicit_loop", F + "networks.py",
            (("        h = self.hidden(x)\n", "        h = x\n        for layer in self.hidden:\n            h = layer(h)\n"),), "T6.1"),
    Variant("t_vae_named_encoder_outputs", F + "networks.py",
            ((VAE_FWD, "        mu, log_var = self.encoder(x)\n        return elbo(x, mu, log_var, eps, self.decoder)"),), "T6.3"),
    Variant("t_train_step_zero_grad_to_zero", F + "optim.py",
            (("    optimizer.zero_grad()\n", "    optimizer.zero_grad(set_to_none=False)\n"),), "T7.1"),
    Variant("t_train_step_sum_over_batch_size", F + "optim.py",
            (("loss = -torch.mean(elbo)", "loss = -elbo.sum() / len(x)"),), "T7.1"),
    Variant("t_train_epoch_tensor_mean", F + "train.py",
            (("return sum(losses) / len(losses)", "return float(torch.tensor(losses, dtype=torch.float64).mean())"),), "T8.1"),
    Variant("t_evaluate_inference_mode", F + "train.py",
            (("    with torch.no_grad():\n        for start", "    with torch.inference_mode():\n        for start"),), "T8.2"),
    Variant("t_iwae_logsumexp_minus_log_k", F + "iwae.py",
            ((IWAE_RET, "    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])"),), "T9.1"),
    Variant("t_score_from_eps", F + "estimators.py", ((SCORE, SCORE.replace("(x - mu) / sigma**2", "eps / sigma")),), "T10.2"),
    Variant("t_surrogate_detached_parameters", F + "estimators.py",
            (("z = (mu + torch.exp(0.5 * log_var) * eps).detach()", "z = mu.detach() + torch.exp(0.5 * log_var.detach()) * eps"),),
            "T10.3"),
    Variant("t_encoder_gradient_parameters_to_vector", F + "estimators.py",
            ((ENC_GRAD, "    grads = torch.autograd.grad(objective, phi)\n    return torch.nn.utils.parameters_to_vector(grads)"),),
            "T10.4"),
    Variant("t_iwae_step_sum_over_batch_size", F + "iwae_train.py",
            ((IWAE_STEP_LOSS, "    loss = -iwae_log_px(x, mu, log_var, eps, model.decoder).sum() / len(x)"),), "T10.5"),
    Variant("t_pathwise_derivative_form", F + "estimators.py",
            ((PATH, "    return 2.0 * (mu - k) + 2.0 * sigma * eps"),), "T10.1"),
]
