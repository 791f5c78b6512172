// Module shapes Vite provides, for tsc (svelte-check reads the components themselves).
declare module '*?url' {
  const url: string;
  export default url;
}
declare module '*.css';
declare module '*.svelte' {
  import type { Component } from 'svelte';
  const component: Component<Record<string, unknown>>;
  export default component;
}
