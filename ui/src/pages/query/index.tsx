// Placeholder until this page lands (being built in this session).

export function QueryPage(_props: { query: URLSearchParams }) {
  return (
    <main class="page" data-page="query">
      <h1>Query</h1>
    </main>
  );
}
