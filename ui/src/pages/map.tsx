// Placeholder until this page lands (being built in this session).

export function MapPage(_props: { query: URLSearchParams }) {
  return (
    <main class="page" data-page="map">
      <h1>Service map</h1>
    </main>
  );
}
