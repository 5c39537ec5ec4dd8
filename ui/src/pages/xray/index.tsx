// Placeholder until this page lands (being built in this session).

export function XrayPage(_props: { query: URLSearchParams }) {
  return (
    <main class="page" data-page="xray">
      <h1>X-Ray traces</h1>
    </main>
  );
}
