// Placeholder until this page lands (being built in this session).

export function LogsPage(_props: { query: URLSearchParams }) {
  return (
    <main class="page" data-page="logs">
      <h1>Logs</h1>
    </main>
  );
}
