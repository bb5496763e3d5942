import { useTitle } from '../hooks';
import { Link } from '../router';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <section class="page">
      <h1>Page not found</h1>
      <p>
        <Link href="/">Back to my queue</Link>
      </p>
    </section>
  );
}

export function ForbiddenPage() {
  useTitle('Admins only');
  return (
    <section class="page">
      <h1>Admins only</h1>
      <p>This page needs the admin role.</p>
      <p>
        <Link href="/">Back to my queue</Link>
      </p>
    </section>
  );
}
