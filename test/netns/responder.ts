// The bed's "application": answers every UDP datagram and every TCP connection on a port with its
// node's name, so the prober in the client namespace knows which node holds the floating IP.
//   bun test/netns/responder.ts NODENAME [PORT]
// UDP: the reply is `NODENAME <the datagram as received>` (the prober puts its sequence number in it).
// TCP: the reply is `NODENAME\n`, then the connection is closed.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

export const RESPONDER_PORT = 8080;

function main(): void {
  const name = process.argv[2];
  const port = Number(process.argv[3] ?? RESPONDER_PORT);
  if (!name || !Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write("Usage: responder.ts NODENAME [PORT]\n");
    process.exit(2);
  }
  const prefix = Buffer.from(`${name} `);
  const udp = createSocket({ type: "udp4", reuseAddr: true });
  // A reply to a prober that went away can fail (ECONNREFUSED): never let that end the app.
  udp.on("error", (e) => process.stderr.write(`responder: UDP error ${e.message}\n`));
  udp.on("message", (msg, rinfo) => {
    udp.send(Buffer.concat([prefix, msg]), rinfo.port, rinfo.address, () => {});
  });
  udp.bind(port, "0.0.0.0");
  const tcp = createServer((c) => {
    c.on("error", () => {});
    c.end(`${name}\n`);
  });
  tcp.on("error", (e) => {
    process.stderr.write(`responder: TCP error ${e.message}\n`);
    process.exit(1);
  });
  tcp.listen(port, "0.0.0.0");
  const bye = () => {
    udp.close();
    tcp.close();
    process.exit(0);
  };
  process.on("SIGTERM", bye);
  process.on("SIGINT", bye);
}

if (import.meta.main) main();
