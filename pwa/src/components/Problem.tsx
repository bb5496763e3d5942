// Shows an API problem (RFC 9457) or any error: title, detail and the per-field errors.
import { ApiError, NetworkError } from '../api';

/** `polite` for errors that appear while typing (role=status instead of an assertive alert). */
export function ProblemBox({ error, title, polite }: { error: unknown; title?: string; polite?: boolean }) {
  if (!error) return null;
  const role = polite ? 'status' : 'alert';
  if (error instanceof ApiError) {
    const p = error.problem;
    return (
      <div class="problem" role={role}>
        <p class="problem-title">{title ?? p.title}</p>
        {p.detail && <p>{p.detail}</p>}
        {p.errors && p.errors.length > 0 && (
          <ul>
            {p.errors.map((er, i) => (
              <li key={i}>
                {er.path !== undefined && er.path !== '' && <code>{Array.isArray(er.path) ? er.path.join('.') : er.path}</code>}{' '}
                {er.message}
              </li>
            ))}
          </ul>
        )}
        {error.retryAfter !== null && <p>Try again in {error.retryAfter} s.</p>}
      </div>
    );
  }
  const text = error instanceof NetworkError ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <div class="problem" role={role}>
      {title && <p class="problem-title">{title}</p>}
      <p>{text}</p>
    </div>
  );
}
