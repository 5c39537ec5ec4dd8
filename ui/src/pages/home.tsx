// Placeholder until this page lands (being built in this session).

export function HomePage(_props: { query: URLSearchParams }) {
  return (
    <main class="page" data-page="home">
      <h1>Home</h1>
    </main>
  );
}
