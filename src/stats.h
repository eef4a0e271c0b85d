/*
 * stats.h -- the statistics behind the report: the trend test on counts
 * and the weighted log-odds of keyphrases. Pure functions of their
 * arguments (no libm state such as lgamma's signgam), so reports can be
 * written from several threads.
 */
#ifndef FM_STATS_H
#define FM_STATS_H

#include "internal.h"

/* ln Gamma(x) for x > 0 (Lanczos, |error| < 2e-10 relative). */
double fmi_lgamma(double x);

/* The regularized incomplete beta function I_x(a, b), a, b > 0,
 * 0 <= x <= 1 (continued fraction, Lentz). */
double fmi_betai(double a, double b, double x);

/* Exact conditional test for two Poisson rates: given x events in the
 * period and y in the previous one, with exposures t1 and t0 (window
 * lengths), x ~ Binomial(x + y, t1 / (t1 + t0)) under equal rates. The
 * two-sided p-value is twice the smaller tail, capped at 1; 1 when
 * x + y = 0. */
double fmi_rate_test(uint64_t x, uint64_t y, double t1, double t0);

/* The z such that P(Z > z) = q for a standard normal Z (0 < q < 1). */
double fmi_norm_upper_quantile(double q);

/* Weighted log-odds with an informative Dirichlet prior (Monroe, Colaresi
 * and Quinn 2008, eq. 16, 22): the z-score of a phrase seen yi times in a
 * group of ni phrase occurrences against yj times in the other group of
 * nj, with prior alpha_w on the phrase and alpha0 in total. Positive when
 * the phrase is over-represented in the first group. 0 when undefined. */
double fmi_log_odds_z(double yi, double ni, double yj, double nj,
                      double alpha_w, double alpha0);

#endif
