// Errors, Rollbar's way: /errors lists items, /errors/{id} opens one.

import { ItemPage } from "./item";
import { ItemList } from "./list";
import "./errors.css";

export function ErrorPage({ itemId, query }: { itemId?: string; query: URLSearchParams }) {
  return itemId ? <ItemPage key={itemId} itemId={decodeURIComponent(itemId)} query={query} /> : <ItemList query={query} />;
}
