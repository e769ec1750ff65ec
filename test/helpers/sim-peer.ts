// A separate client process for fltsim tests that need another identity: started (after tsc
// compiles this file and sim-wire.ts) under another uid/gid, it connects to a port and prints
// one JSON line with the NTSTATUS the host answered. Not imported by tests; see runSimPeer in
// sim-host.ts.
//
//   node sim-peer.js '{"socketPath":"...","port":"\\Name","context":"<hex>"}'
import { SimPortClient } from './sim-wire.js';

interface PeerRequest {
  socketPath: string;
  port: string;
  context?: string;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as PeerRequest;
  const client = await SimPortClient.connect(
    request.socketPath,
    request.port,
    request.context ? { context: Buffer.from(request.context, 'hex') } : {},
  );
  let echo: string | undefined;
  if (client.status === 0) {
    // Prove the handle works: one FilterSendMessage round trip (the test port echoes).
    const r = await client.send(Buffer.from('peer'), 8);
    echo = r.bytes.toString();
  }
  process.stdout.write(`${JSON.stringify({ status: client.status, uid: process.getuid?.(), gid: process.getgid?.(), pid: process.pid, echo })}\n`);
  client.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`sim-peer: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
