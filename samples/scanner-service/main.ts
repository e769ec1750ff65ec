// `npm start` / `node build/scanner-service/samples/scanner-service/main.js [options]`.
import { FltportError } from '../../lib/index.js';
import { parseServiceArgs, USAGE, UsageError } from './args.js';
import { startScanner } from './service.js';
import { formatSummary } from './stats.js';

const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, accessDenied: 4, disconnected: 5, simUnavailable: 6 } as const;

function exitCodeFor(error: unknown): number {
  if (!(error instanceof FltportError)) return EXIT.failure;
  switch (error.code) {
    case 'FLTPORT_NOT_FOUND':
      return EXIT.notFound;
    case 'FLTPORT_ACCESS_DENIED':
      return EXIT.accessDenied;
    case 'FLTPORT_DISCONNECTED':
      return EXIT.disconnected;
    case 'FLTPORT_SIM_UNAVAILABLE':
      return EXIT.simUnavailable;
    default:
      return EXIT.failure;
  }
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseServiceArgs(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`scanner-service: ${e.message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  let scanner;
  try {
    scanner = await startScanner(options, {
      write: (t) => process.stdout.write(t),
      isTTY: process.stdout.isTTY === true,
      log: (l) => process.stderr.write(`${l}\n`),
    });
  } catch (e) {
    process.stderr.write(`scanner-service: cannot connect to the sample driver: ${(e as Error).message}\n`);
    return exitCodeFor(e);
  }
  process.stderr.write(`scanner-service: connected to \\FltportSampleScan; patterns: ${options.patterns.map((p) => p.name).join(', ')} (${options.patternSource})\n`);
  const stop = (): void => scanner.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const result = await scanner.done;
  if (options.json) process.stdout.write(`${JSON.stringify({ end: result.end, ...result.summary })}\n`);
  else process.stdout.write(`${formatSummary(result.summary).join('\n')}\n`);
  if (result.end === 'disconnected') {
    process.stderr.write(`scanner-service: the driver went away: ${(result.error as Error)?.message}\n`);
    return exitCodeFor(result.error);
  }
  return EXIT.ok;
}

process.exitCode = await main();
