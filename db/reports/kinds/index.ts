// The registry of report kinds (the extension point): a kind is available when it has a module here.
// A kind listed in REPORT_KINDS without a module would be a 400 "not available yet".
import type { ReportKind } from '../doc';
import { alertsKind } from './alerts';
import { dashboardKind } from './dashboard';
import { scoresKind } from './scores';

export const REPORT_KINDS = ['alerts', 'dashboard', 'scores'] as const;
export type ReportKindName = (typeof REPORT_KINDS)[number];

export const KIND_MODULES: Partial<Record<ReportKindName, ReportKind<any>>> = {
  alerts: alertsKind,
  dashboard: dashboardKind,
  scores: scoresKind,
};

export function kindModule(kind: string): ReportKind<any> | null {
  return (KIND_MODULES as Record<string, ReportKind<any> | undefined>)[kind] ?? null;
}
