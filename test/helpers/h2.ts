import type http2 from 'node:http2';

export interface H2Answer {
  status: number;
  body: string;
  /** Set when the stream failed (refused, reset): what it said. */
  error?: string;
}

/** One GET on an HTTP/2 session: its status and body, or the stream's error beside what had arrived. */
export function h2Get(session: http2.ClientHttp2Session, path: string): Promise<H2Answer> {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': path });
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', (err) => resolve({ status, body, error: err.message }));
  });
}
