// Container healthcheck without curl or wget in the image: exits 0 when the URL answers 2xx
// within 3 s, 1 otherwise. Usage: node deploy/http-ok.mjs http://127.0.0.1:3000/readyz
const url = process.argv[2];
if (!url) {
  console.error('usage: node deploy/http-ok.mjs <url>');
  process.exit(2);
}
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
