/*
 * stats.c -- trend test and log-odds (stats.h).
 */
#include "stats.h"

#include <math.h>

double fmi_lgamma(double x) {
  /* Lanczos approximation, g = 7, n = 9 (Numerical Recipes 3rd ed.
   * coefficients as published by Paul Godfrey). */
  static const double c[9] = {
      0.99999999999980993,  676.5203681218851,     -1259.1392167224028,
      771.32342877765313,   -176.61502916214059,   12.507343278686905,
      -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
  double a, t;
  int i;
  if (x < 0.5) /* reflection: Gamma(x) Gamma(1-x) = pi / sin(pi x) */
    return log(M_PI / fabs(sin(M_PI * x))) - fmi_lgamma(1.0 - x);
  x -= 1.0;
  a = c[0];
  t = x + 7.5;
  for (i = 1; i < 9; i++) a += c[i] / (x + (double)i);
  return 0.5 * log(2 * M_PI) + (x + 0.5) * log(t) - t + log(a);
}

/* Continued fraction of the incomplete beta function (modified Lentz). */
static double betacf(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  double qab = a + b, qap = a + 1.0, qam = a - 1.0, c = 1.0, d, h;
  int m;
  d = 1.0 - qab * x / qap;
  if (fabs(d) < tiny) d = tiny;
  d = 1.0 / d;
  h = d;
  for (m = 1; m <= 100000; m++) {
    double m2 = 2.0 * m, aa, del;
    aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (fabs(d) < tiny) d = tiny;
    c = 1.0 + aa / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (fabs(d) < tiny) d = tiny;
    c = 1.0 + aa / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    del = d * c;
    h *= del;
    if (fabs(del - 1.0) < eps) break;
  }
  return h;
}

double fmi_betai(double a, double b, double x) {
  double bt;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  bt = exp(fmi_lgamma(a + b) - fmi_lgamma(a) - fmi_lgamma(b) + a * log(x) +
           b * log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return bt * betacf(a, b, x) / a;
  return 1.0 - bt * betacf(b, a, 1.0 - x) / b;
}

/* P(X >= k) for X ~ Binomial(n, p). */
static double binom_upper(uint64_t k, uint64_t n, double p) {
  if (k == 0) return 1.0;
  if (k > n) return 0.0;
  return fmi_betai((double)k, (double)(n - k + 1), p);
}

double fmi_rate_test(uint64_t x, uint64_t y, double t1, double t0) {
  uint64_t n = x + y;
  double p, lo, hi, r;
  if (n == 0 || !(t1 > 0) || !(t0 > 0)) return 1.0;
  p = t1 / (t1 + t0);
  hi = binom_upper(x, n, p);           /* P(X >= x) */
  lo = 1.0 - binom_upper(x + 1, n, p); /* P(X <= x) */
  r = 2.0 * (lo < hi ? lo : hi);
  if (r > 1.0) r = 1.0;
  if (r < 0.0) r = 0.0;
  return r;
}

double fmi_norm_upper_quantile(double q) {
  /* Bisection on erfc: 200 halvings of [0, 40] are far below double
   * precision, and it is exact enough for a printed threshold. */
  double lo = -40, hi = 40;
  int i;
  if (!(q > 0)) return 40;
  if (!(q < 1)) return -40;
  for (i = 0; i < 200; i++) {
    double mid = 0.5 * (lo + hi);
    if (0.5 * erfc(mid / M_SQRT2) > q) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

double fmi_log_odds_z(double yi, double ni, double yj, double nj,
                      double alpha_w, double alpha0) {
  double di = ni + alpha0 - yi - alpha_w, dj = nj + alpha0 - yj - alpha_w;
  double delta, var;
  if (!(alpha_w > 0) || di <= 0 || dj <= 0) return 0;
  delta = log((yi + alpha_w) / di) - log((yj + alpha_w) / dj);
  var = 1.0 / (yi + alpha_w) + 1.0 / (yj + alpha_w);
  return delta / sqrt(var);
}
