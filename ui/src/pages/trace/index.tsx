// Placeholder until this page lands (being built in this session).

export function TracePage(_props: { traceId: string; query: URLSearchParams }) {
  return (
    <main class="page" data-page="trace">
      <h1>Trace</h1>
    </main>
  );
}
