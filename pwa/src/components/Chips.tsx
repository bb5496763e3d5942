import type { AlertView } from '../types';
import { label } from '../types';

export function SeverityChip({ severity }: { severity: AlertView['severity'] }) {
  return <span class={`chip sev-${severity}`}>{label(severity)}</span>;
}

export function PriorityChip({ priority }: { priority: AlertView['priority'] }) {
  return <span class={`chip prio-${priority}`}>{label(priority)} priority</span>;
}

export function StatusChip({ status, pending }: { status: AlertView['status']; pending?: boolean }) {
  if (pending) return <span class="chip status-pending">Pending</span>;
  return <span class={`chip status-${status}`}>{label(status)}</span>;
}
