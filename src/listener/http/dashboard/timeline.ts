/**
 * What one stored event says, for the job page's timeline: read from the body as received (the inbox row has only the
 * status and times). Every value is passed on as data; the page renders it as text.
 */
import type { JobStateChangeDetail } from '../../../events/types.js';

export interface EventSummary {
  percent: number | null;
  phase: string | null;
  warnings: Array<{ code: string; message: string | null; count: number | null }>;
  errorCode: string | null;
  errorMessage: string | null;
  queue: string | null;
  /** Set when the stored body is missing or not JSON (it never should be). */
  unreadable?: true;
}

const str = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));

export function describeEvent(body: string | undefined): EventSummary {
  const empty: EventSummary = { percent: null, phase: null, warnings: [], errorCode: null, errorMessage: null, queue: null };
  if (body === undefined) return { ...empty, unreadable: true };
  let detail: Partial<JobStateChangeDetail> | undefined;
  try {
    const parsed = JSON.parse(body) as { detail?: Partial<JobStateChangeDetail> };
    detail = parsed?.detail && typeof parsed.detail === 'object' ? parsed.detail : undefined;
  } catch {
    return { ...empty, unreadable: true };
  }
  if (!detail) return empty;
  const progress = detail.jobProgress;
  const percent = detail.status === 'COMPLETE' ? 100 : typeof progress?.jobPercentComplete === 'number' ? progress.jobPercentComplete : null;
  const warnings: EventSummary['warnings'] = [];
  if (detail.warningCode !== undefined) warnings.push({ code: String(detail.warningCode), message: str(detail.warningMessage), count: null });
  if (Array.isArray(detail.warnings))
    for (const w of detail.warnings)
      warnings.push({ code: String(w?.code ?? ''), message: str((w as Record<string, unknown>)?.message), count: typeof w?.count === 'number' ? w.count : null });
  return {
    percent,
    phase: str(progress?.currentPhase),
    warnings,
    errorCode: str(detail.errorCode),
    errorMessage: str(detail.errorMessage),
    queue: str(detail.queue),
  };
}
