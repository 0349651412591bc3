/**
 * A stand-in SOCKS5 server (RFC 1928, with RFC 1929 username/password) for
 * launcher tests: it records each request (credentials, command, address as
 * the client sent it: IPv4 or domain name) and answers "succeeded", then
 * closes the connection. Tor's own extension commands are recorded too.
 */
import * as net from 'node:net';

export interface SocksRequest {
  /** Set when the client authenticated with username and password. */
  readonly username?: string;
  readonly password?: string;
  /** 1 CONNECT; 0xF0 Tor's RESOLVE. */
  readonly command: number;
  /** `ipv4`, `domain` or `ipv6`: `domain` is DNS through the proxy. */
  readonly addressType: 'ipv4' | 'domain' | 'ipv6';
  readonly address: string;
  readonly port: number;
}

export interface SocksServer {
  readonly requests: SocksRequest[];
  close(): Promise<void>;
}

/** Listens on `host:port` until closed. */
export function socksServer(host: string, port: number): Promise<SocksServer> {
  const requests: SocksRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' | 'done' = 'greeting';
    let username: string | undefined;
    let password: string | undefined;
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (stage === 'greeting') {
          if (buffer.length < 2 || buffer.length < 2 + buffer[1]) return;
          const methods = [...buffer.subarray(2, 2 + buffer[1])];
          buffer = buffer.subarray(2 + buffer[1]);
          const method = methods.includes(2) ? 2 : methods.includes(0) ? 0 : 0xff;
          socket.write(Buffer.from([5, method]));
          if (method === 0xff) return void socket.end();
          stage = method === 2 ? 'auth' : 'request';
        } else if (stage === 'auth') {
          if (buffer.length < 2) return;
          const ulen = buffer[1];
          if (buffer.length < 3 + ulen) return;
          const plen = buffer[2 + ulen];
          if (buffer.length < 3 + ulen + plen) return;
          username = buffer.subarray(2, 2 + ulen).toString('latin1');
          password = buffer.subarray(3 + ulen, 3 + ulen + plen).toString('latin1');
          buffer = buffer.subarray(3 + ulen + plen);
          socket.write(Buffer.from([1, 0]));
          stage = 'request';
        } else if (stage === 'request') {
          if (buffer.length < 5) return;
          const atyp = buffer[3];
          const addrLen = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buffer[4];
          if (buffer.length < 4 + addrLen + 2) return;
          const raw = buffer.subarray(4, 4 + addrLen);
          const address = atyp === 1 ? [...raw].join('.') : atyp === 3 ? raw.subarray(1).toString('latin1') : raw.toString('hex');
          const addressType = atyp === 1 ? 'ipv4' : atyp === 3 ? 'domain' : 'ipv6';
          requests.push({ ...(username !== undefined ? { username, password } : {}), command: buffer[1], addressType, address, port: buffer.readUInt16BE(4 + addrLen) });
          // Succeeded, bound to 0.0.0.0:0 (a RESOLVE answer would carry the address).
          socket.end(Buffer.from([5, 0, 0, 1, 192, 0, 2, 1, 0, 0]));
          stage = 'done';
          return;
        } else {
          return;
        }
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () =>
      resolve({
        requests,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}
