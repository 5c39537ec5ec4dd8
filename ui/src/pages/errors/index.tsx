// Placeholder until this page lands (being built in this session).

export function ErrorPage(_props: { itemId?: string; query: URLSearchParams }) {
  return (
    <main class="page" data-page="errors">
      <h1>Errors</h1>
    </main>
  );
}
