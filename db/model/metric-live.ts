// The Postgres channel on which the rollup job announces metrics whose numbers changed, as
// "<org>:<metric key>,<org>:<metric key>…" (sent in the transaction that changed them, so it arrives once they
// are committed). Live dashboards reload the widgets of those metrics.
export const METRIC_CHANNEL = 'herald_metric';
