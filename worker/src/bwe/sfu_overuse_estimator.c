#include "sfu_overuse_estimator.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define SFU__OE_DELTA_COUNTER_MAX 1000

void sfu_overuse_estimator_init(sfu_overuse_estimator_t *e) {
  memset(e, 0, sizeof(*e));
  e->slope = 8.0 / 512.0;
  e->e[0][0] = 100.0;
  e->e[1][1] = 1e-1;
  e->process_noise[0] = 1e-13;
  e->process_noise[1] = 1e-3;
  e->var_noise = 50.0;
}

static double sfu__oe_min_frame_period(sfu_overuse_estimator_t *e, double ts_delta) {
  double m = ts_delta;
  int i;

  for (i = 0; i < e->ts_len; i++)
    if (e->ts_hist[i] < m) m = e->ts_hist[i];
  e->ts_hist[e->ts_pos] = ts_delta;
  e->ts_pos = (e->ts_pos + 1) % SFU_OVERUSE_ESTIMATOR_FRAME_HISTORY;
  if (e->ts_len < SFU_OVERUSE_ESTIMATOR_FRAME_HISTORY) e->ts_len++;
  return m;
}

static void sfu__oe_noise(sfu_overuse_estimator_t *e, double residual, double ts_delta, bool stable) {
  double alpha = 0.01, beta;

  if (!stable) return;
  if (e->num_deltas > 10 * 30) alpha = 0.002;
  beta = pow(1 - alpha, ts_delta * 30.0 / 1000.0);
  e->avg_noise = beta * e->avg_noise + (1 - beta) * residual;
  e->var_noise = beta * e->var_noise + (1 - beta) * (e->avg_noise - residual) * (e->avg_noise - residual);
  if (e->var_noise < 1) e->var_noise = 1;
}

void sfu_overuse_estimator_update(sfu_overuse_estimator_t *e, double recv_delta_ms, double send_delta_ms,
                                  int64_t size_delta, sfu_bw_usage_t current) {
  const double min_frame_period = sfu__oe_min_frame_period(e, send_delta_ms);
  const double t_ts_delta = recv_delta_ms - send_delta_ms;
  const double h0 = (double)size_delta, h1 = 1.0;
  double eh0, eh1, residual, max_residual, denom, k0, k1, e00, e01, e10, e11;

  if (e->num_deltas < SFU__OE_DELTA_COUNTER_MAX) e->num_deltas++;
  e->e[0][0] += e->process_noise[0];
  e->e[1][1] += e->process_noise[1];
  if ((current == SFU_BW_OVERUSING && e->offset < e->prev_offset) ||
      (current == SFU_BW_UNDERUSING && e->offset > e->prev_offset))
    e->e[1][1] += 10 * e->process_noise[1];

  eh0 = e->e[0][0] * h0 + e->e[0][1] * h1;
  eh1 = e->e[1][0] * h0 + e->e[1][1] * h1;
  residual = t_ts_delta - e->slope * h0 - e->offset;
  max_residual = 3.0 * sqrt(e->var_noise);
  if (fabs(residual) < max_residual)
    sfu__oe_noise(e, residual, min_frame_period, current == SFU_BW_NORMAL);
  else
    sfu__oe_noise(e, residual < 0 ? -max_residual : max_residual, min_frame_period, current == SFU_BW_NORMAL);

  denom = e->var_noise + h0 * eh0 + h1 * eh1;
  k0 = eh0 / denom;
  k1 = eh1 / denom;
  e00 = e->e[0][0];
  e01 = e->e[0][1];
  e10 = e->e[1][0];
  e11 = e->e[1][1];
  /* E = (I - K h^T) E */
  e->e[0][0] = e00 * (1.0 - k0 * h0) + e10 * (-k0 * h1);
  e->e[0][1] = e01 * (1.0 - k0 * h0) + e11 * (-k0 * h1);
  e->e[1][0] = e00 * (-k1 * h0) + e10 * (1.0 - k1 * h1);
  e->e[1][1] = e01 * (-k1 * h0) + e11 * (1.0 - k1 * h1);

  e->slope += k0 * residual;
  e->prev_offset = e->offset;
  e->offset += k1 * residual;
}
