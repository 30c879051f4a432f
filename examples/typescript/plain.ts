// A TypeScript app without the SDK, run with --node-args "--import tsx": the preload drains it.
import http from 'node:http';

const port = Number(process.env.PORT ?? 3000);
const server = http.createServer((_req, res) => res.end(`${process.pid}\n`));
server.listen(port, process.env.HOST ?? '127.0.0.1');
