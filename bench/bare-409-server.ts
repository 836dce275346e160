/*
 * The sold-out baseline: bare node:http answering every request with the same 409 problem JSON
 * the API sends (BARE_BODY), in its own process like the API, so both are measured alike.
 */
import http from 'node:http';

const port = Number(process.env.PORT);
const body = Buffer.from(process.env.BARE_BODY ?? '{}');

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(409, { 'content-type': 'application/problem+json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
