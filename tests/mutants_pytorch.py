"""Planted bugs and correct variants of the PyTorch track (see tests/mutants.py)."""

from tests.mutants import Mutant, Variant

F = "pytorch/"
KL = "    return 0.5 * torch.sum(mu**2 + torch.exp(log_var) - log_var - 1.0, dim=-1)"
Z = "    return mu + torch.exp(0.5 * log_var) * eps"
BCE = '    log_bernoulli = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")'
NORM_EXACT = "    safe = torch.where(in_window, TAYLOR_WINDOW, logits)  # keeps the unused exact branch finite"
EPOCH_EPS = "torch.randn((n_samples, len(idx), z_dim), generator=generator, dtype=x_train.dtype)"

MUTANTS = [
    Mutant("t_gaussian_std_for_variance", F + "gaussian.py",
           (("sq = (x - mu) ** 2 * torch.exp(-log_var)", "sq = (x - mu) ** 2 * torch.exp(-0.5 * log_var)"),),
           "T1.1", ("test_log_normal_diag_matches_reference",), "exp(0.5 log_var)"),
    Mutant("t_cb_normaliser_nan_gradient_without_safe_stand_in", F + "continuous_bernoulli.py",
           ((NORM_EXACT, "    safe = logits"),),
           "T2.1", ("test_cb_log_norm_gradients_are_finite_and_correct_at_the_edges",), "NaN gradient"),
    Mutant("t_bernoulli_log_likelihood_for_cb", F + "continuous_bernoulli.py",
           (("torch.sum(log_bernoulli + cb_log_norm(logits), dim=-1)", "torch.sum(log_bernoulli, dim=-1)"),),
           "T2.2", ("test_cb_log_prob_matches_reference", "test_cb_density_integrates_to_one"), "Bernoulli"),
    Mutant("t_cb_sigmoid_then_log_underflows", F + "continuous_bernoulli.py",
           ((BCE, "    eta = torch.sigmoid(logits)\n    log_bernoulli = x * torch.log(eta) + (1 - x) * torch.log(1 - eta)"),),
           "T2.2", ("test_cb_log_prob_matches_reference",), "binary_cross_entropy_with_logits"),
    Mutant("t_kl_wrong_sign", F + "kl.py", ((KL, KL.replace("0.5 *", "-0.5 *")),),
           "T3.1", ("test_kl_is_nonnegative",), ">= 0"),
    Mutant("t_kl_without_one_half", F + "kl.py", ((KL, KL.replace("0.5 * ", "")),),
           "T3.1", ("test_kl_matches_reference",), "0.5 * sum"),
    Mutant("t_reparam_detaches_the_sample", F + "reparam.py", ((Z, "    return (mu + torch.exp(0.5 * log_var) * eps).detach()"),),
           "T4.1", ("test_sample_is_not_detached_from_mu_and_log_var",), "detach"),
    Mutant("t_reparam_draws_its_own_noise", F + "reparam.py", ((Z, Z.replace("* eps", "* torch.randn_like(eps)")),),
           "T4.1", ("test_reparameterize_uses_only_the_given_eps",), "drew its own random numbers"),
    Mutant("t_reparam_std_is_exp_log_var", F + "reparam.py", ((Z, Z.replace("0.5 * ", "")),),
           "T4.1", ("test_reparameterize_matches_reference",), "standard deviation is exp(0.5 log_var)"),
    Mutant("t_elbo_sums_over_k", F + "elbo.py",
           (("torch.mean(cb_log_prob(x, decode(z)), dim=0)", "torch.sum(cb_log_prob(x, decode(z)), dim=0)"),),
           "T5.1", ("test_elbo_averages_over_samples_not_sums",), "average over K"),
    Mutant("t_elbo_detaches_the_sample", F + "elbo.py",
           (("z = reparameterize(mu, log_var, eps)", "z = reparameterize(mu, log_var, eps).detach()"),),
           "T5.1", ("test_pathwise_gradients_of_elbo_match_reference", "test_log_likelihood_term_is_not_detached_from_the_sample"),
           "graph"),
    Mutant("t_encoder_ignores_log_var", F + "networks.py",
           (("return self.to_mu(h), self.to_log_var(h)", "return self.to_mu(h), 0.0 * self.to_log_var(h)"),),
           "T6.1", ("test_encoder_matches_reference",), "log_var head"),
    Mutant("t_decoder_returns_probabilities", F + "networks.py",
           (("return self.to_logits(self.hidden(z))", "return self.to_logits(self.hidden(z)).sigmoid()"),),
           "T6.2", ("test_decoder_matches_reference_on_k_samples",), "no sigmoid"),
    Mutant("t_vae_ignores_log_var", F + "networks.py",
           (("return elbo(x, *self.encoder(x), eps, self.decoder)",
             "mu, log_var = self.encoder(x)\n        return elbo(x, mu, 0.0 * log_var, eps, self.decoder)"),),
           "T6.3", ("test_vae_forward_matches_reference",), "log_var"),
    Mutant("t_train_step_without_zero_grad", F + "optim.py", (("    optimizer.zero_grad()\n", ""),),
           "T7.1", ("test_train_step_zeroes_old_gradients",), "zero_grad"),
    Mutant("t_train_step_ascends_the_loss", F + "optim.py", (("loss = -torch.mean(elbo)", "loss = torch.mean(elbo)"),),
           "T7.1", ("test_train_step_matches_reference",), "-mean over the batch"),
    Mutant("t_train_epoch_draws_from_the_global_generator", F + "train.py",
           ((EPOCH_EPS, "torch.randn((n_samples, len(idx), z_dim), dtype=x_train.dtype)"),),
           "T8.1", ("test_train_epoch_draws_only_from_its_generator",), "generator"),
    Mutant("t_evaluate_builds_a_graph", F + "train.py", (("    with torch.no_grad():\n        for start", "    with torch.enable_grad():\n        for start"),),
           "T8.2", ("test_evaluate_builds_no_graph_and_draws_only_from_its_generator",), "no_grad"),
    Mutant("t_iwae_naive_log_mean_exp", F + "iwae.py",
           (("return log_mean_exp(log_w, dim=0)", "return torch.log(torch.mean(torch.exp(log_w), dim=0))"),),
           "T9.1", ("test_iwae_is_stable_for_very_small_weights",), "stably"),
    Mutant("t_surrogate_lets_the_gradient_through_z", F + "estimators.py",
           (("z = (mu + torch.exp(0.5 * log_var) * eps).detach()", "z = mu + torch.exp(0.5 * log_var) * eps"),),
           "T10.3", ("test_surrogate_gradients_are_score_function_estimates",), "detach"),
    Mutant("t_iwae_step_ascends_the_loss", F + "iwae_train.py",
           (("loss = -torch.mean(iwae_log_px(", "loss = torch.mean(iwae_log_px("),),
           "T10.5", ("test_iwae_train_step_matches_reference",), "-mean"),
]

VARIANTS = [
    Variant("t_kl_expanded_other_way", F + "kl.py",
            ((KL, "    return -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp(), dim=-1)"),), "T3.1"),
    Variant("t_cb_log_prob_with_softplus", F + "continuous_bernoulli.py",
            ((BCE, "    log_bernoulli = x * logits - F.softplus(logits)"),), "T2.2"),
    Variant("t_reparam_with_addcmul", F + "reparam.py", ((Z, "    return torch.addcmul(mu, torch.exp(0.5 * log_var), eps)"),),
            "T4.1"),
]
