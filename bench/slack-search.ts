// Issue 7's Slack figures, before and after, in one run: for one search and its Next, how many
// messages reach the channel, how many private response_url POSTs and Web API calls it takes; and
// how long from /findimage to the preview, over 50 searches one after another and 20 at once.
// "After" is this checkout; "before" is commit 7cfdc30 (results posted into the channel, one
// thread message per result), checked out as a git worktree under the temp folder with this
// checkout's node_modules, and driven by the same bench/slack-search-flow.ts copied into it.
// Both run the real Bolt App in Socket Mode against the fake Slack (test/slack/slack-harness.ts).
// Run: node --import tsx bench/slack-search.ts [--rounds N] [--keep-worktree]   (also run by
// `npm run bench -- --all`)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine, type MachineInfo } from './machine-info.js';
import { RESULT_MARKER, type FlowCounts, type FlowLatency, type FlowResult } from './slack-search-flow.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The last commit before issue 7's search sessions: the "before" flow. */
export const BEFORE_COMMIT = '7cfdc30';
/** Where the flow script is copied in the worktree (outside bench/ so it cannot shadow a file there). */
const OLD_FLOW_SCRIPT = 'bench-old-slack.ts';
const RESULTS_PATH = join(ROOT, '.bench', 'slack-search.json');

const log = (line: string) => process.stderr.write(`${line}\n`);

/** One side's figures: each round's, and their median. */
export interface SideResults {
  revision: string;
  /** Figures of each round, in order. */
  rounds: FlowResult[];
  /** Counts of round 1 (every round must count the same); each latency figure the median of the rounds'. */
  median: FlowResult;
}

/** Both flows' figures and where they were measured. */
export interface SlackSearchResults {
  startedAt: string;
  command: string;
  machine: MachineInfo;
  /** Rounds run; each runs both flows, alternating which goes first. */
  rounds: number;
  /** This checkout ("+ uncommitted changes" when the tree differs from its commit). */
  after: SideResults;
  /** BEFORE_COMMIT. */
  before: SideResults;
}

function git(args: string[], cwd = ROOT): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function revisionOfCheckout(): string {
  const head = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  return dirty ? `${head} + uncommitted changes` : head;
}

/** A worktree of BEFORE_COMMIT under the temp folder, with this checkout's node_modules linked in. */
async function beforeWorktree(): Promise<string> {
  const dir = join(tmpdir(), `findimage-bench-${BEFORE_COMMIT}`);
  const wanted = git(['rev-parse', BEFORE_COMMIT]);
  if (existsSync(dir)) {
    const current = git(['rev-parse', 'HEAD'], dir);
    if (current !== wanted) throw new Error(`${dir} holds ${current}, not ${BEFORE_COMMIT}; remove it (git worktree remove --force ${dir})`);
  } else {
    // A stale registration (the folder deleted by hand) would make `worktree add` refuse.
    git(['worktree', 'prune']);
    git(['worktree', 'add', '--detach', dir, BEFORE_COMMIT]);
  }
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) await symlink(join(ROOT, 'node_modules'), modules, 'dir');
  // The flow script only imports Node and the harness it is pointed at, so it runs unchanged there.
  await writeFile(join(dir, OLD_FLOW_SCRIPT), await readFile(join(ROOT, 'bench', 'slack-search-flow.ts')));
  return dir;
}

/** Runs the flow script in a child process and returns the figures it printed. */
async function runFlow(cwd: string, script: string, harness: string): Promise<FlowResult> {
  const output = await new Promise<string>((resolveOutput, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd,
      env: { ...process.env, FINDIMAGE_SLACK_HARNESS: harness },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolveOutput(stdout) : reject(new Error(`${script} in ${cwd} exited with ${code}:\n${stdout}`))));
  });
  const line = output.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (line === undefined) throw new Error(`${script} printed no figures:\n${output}`);
  return JSON.parse(line.slice(RESULT_MARKER.length)) as FlowResult;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function medianLatency(series: readonly FlowLatency[]): FlowLatency {
  return {
    count: series[0]?.count ?? 0,
    p50: median(series.map((s) => s.p50)),
    p95: median(series.map((s) => s.p95)),
    max: median(series.map((s) => s.max)),
  };
}

/** Round 1's counts and the median of each latency figure; throws when rounds counted differently. */
function sideOf(revision: string, rounds: FlowResult[]): SideResults {
  const first = rounds[0];
  if (first === undefined) throw new Error('no rounds');
  for (const [i, round] of rounds.entries()) {
    if (JSON.stringify(round.counts) !== JSON.stringify(first.counts)) {
      throw new Error(`${revision}: round ${i + 1} counted ${JSON.stringify(round.counts)}, round 1 ${JSON.stringify(first.counts)}`);
    }
  }
  return {
    revision,
    rounds,
    median: {
      ...first,
      sequentialPreview: medianLatency(rounds.map((r) => r.sequentialPreview)),
      sequentialComplete: medianLatency(rounds.map((r) => r.sequentialComplete)),
      concurrentPreview: medianLatency(rounds.map((r) => r.concurrentPreview)),
      concurrentComplete: medianLatency(rounds.map((r) => r.concurrentComplete)),
      concurrentWallMs: median(rounds.map((r) => r.concurrentWallMs)),
    },
  };
}

const ms = (n: number) => `${n.toFixed(1)} ms`;
const ratio = (before: number, after: number) => (after === 0 ? (before === 0 ? '=' : '∞') : `${(before / after).toFixed(1)}×`);

function methods(counts: FlowCounts): string {
  const entries = Object.entries(counts.callsByMethod).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? 'none' : entries.map(([method, n]) => `${method} ${n}`).join(', ');
}

/** The figures as a Markdown-ish table, before against after. */
export function formatSlackSearch(results: SlackSearchResults): string {
  const { before, after } = results;
  const b = before.median;
  const a = after.median;
  const lines = [
    `${results.command}`,
    `${results.machine.cpuModel}, ${results.machine.cores} cores, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}, load ${results.machine.loadAverageAtStart}`,
    `before: ${before.revision}   after: ${after.revision}   (${a.seededImages} images seeded, one public channel)`,
    `latencies: the median over ${results.rounds} round(s) of each figure; each round runs both flows, alternating which goes first`,
    '',
    '| one search + Next | before | after |',
    '|---|---:|---:|',
  ];
  for (const [step, key] of [['search', 'search'], ['Next', 'next'], ['search + Next', 'total']] as const) {
    lines.push(`| ${step}: channel messages (postMessage + update) | ${b.counts[key].channelMessages} | ${a.counts[key].channelMessages} |`);
    lines.push(`| ${step}: response_url POSTs | ${b.counts[key].responseUrlPosts} | ${a.counts[key].responseUrlPosts} |`);
    lines.push(`| ${step}: Web API calls | ${b.counts[key].webApiCalls} (${methods(b.counts[key])}) | ${a.counts[key].webApiCalls} (${methods(a.counts[key])}) |`);
  }
  lines.push('', '| command -> results | before | after | before / after |', '|---|---:|---:|---:|');
  const row = (label: string, x: FlowLatency, y: FlowLatency, field: keyof FlowLatency) =>
    lines.push(`| ${label} ${field} | ${ms(x[field])} | ${ms(y[field])} | ${ratio(x[field], y[field])} |`);
  row(`${b.sequentialPreview.count} sequential, first message`, b.sequentialPreview, a.sequentialPreview, 'p50');
  row(`${b.sequentialPreview.count} sequential, first message`, b.sequentialPreview, a.sequentialPreview, 'p95');
  row(`${b.sequentialComplete.count} sequential, whole page`, b.sequentialComplete, a.sequentialComplete, 'p50');
  row(`${b.sequentialComplete.count} sequential, whole page`, b.sequentialComplete, a.sequentialComplete, 'p95');
  for (const field of ['p50', 'p95', 'max'] as const) row(`${b.concurrentPreview.count} concurrent, first message`, b.concurrentPreview, a.concurrentPreview, field);
  for (const field of ['p50', 'p95', 'max'] as const) row(`${b.concurrentComplete.count} concurrent, whole page`, b.concurrentComplete, a.concurrentComplete, field);
  lines.push(`| ${b.concurrentComplete.count} concurrent, all done (wall) | ${ms(b.concurrentWallMs)} | ${ms(a.concurrentWallMs)} | ${ratio(b.concurrentWallMs, a.concurrentWallMs)} |`);
  const perRound = (pick: (r: FlowResult) => number) =>
    before.rounds.map((r, i) => ratio(pick(r), pick(after.rounds[i] as FlowResult))).join(', ');
  lines.push(
    '',
    `before / after in each round: sequential first message p50 ${perRound((r) => r.sequentialPreview.p50)}; ` +
      `sequential whole page p50 ${perRound((r) => r.sequentialComplete.p50)}; concurrent first message p50 ${perRound((r) => r.concurrentPreview.p50)}`,
  );
  return lines.join('\n');
}

export async function benchSlackSearch(rounds: number, keepWorktree: boolean, command: string): Promise<SlackSearchResults> {
  const machine = describeMachine();
  log(`${command}\n${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverageAtStart}`);
  const startedAt = new Date().toISOString();
  const afterRevision = revisionOfCheckout();
  const beforeRevision = git(['rev-parse', '--short', BEFORE_COMMIT]);
  log(`Checking out ${BEFORE_COMMIT} as a worktree...`);
  const worktree = await beforeWorktree();
  const runBefore = () => runFlow(worktree, OLD_FLOW_SCRIPT, join(worktree, 'test', 'slack', 'slack-harness.ts'));
  const runAfter = () => runFlow(ROOT, join('bench', 'slack-search-flow.ts'), join(ROOT, 'test', 'slack', 'slack-harness.ts'));
  const beforeRounds: FlowResult[] = [];
  const afterRounds: FlowResult[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      // Alternating the order keeps a machine that warms up or gets busier from favouring one side.
      const order = round % 2 === 1 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      for (const side of order) {
        log(`Round ${round}/${rounds}, ${side} (${side === 'before' ? beforeRevision : afterRevision}): one search + Next, 5 warm-up, 50 sequential and 20 concurrent searches...`);
        if (side === 'before') beforeRounds.push(await runBefore());
        else afterRounds.push(await runAfter());
      }
    }
    return {
      startedAt,
      command,
      machine,
      rounds,
      before: sideOf(beforeRevision, beforeRounds),
      after: sideOf(afterRevision, afterRounds),
    };
  } finally {
    if (!keepWorktree) {
      // Unlinked first, so that removing the worktree can never reach into this checkout's modules.
      await unlink(join(worktree, 'node_modules'));
      git(['worktree', 'remove', '--force', worktree]);
    }
  }
}

/** Rounds when --rounds is not given: enough for a median on a shared 2-core machine, about 30 s. */
const DEFAULT_ROUNDS = 3;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { rounds: { type: 'string' }, 'keep-worktree': { type: 'boolean', default: false } },
    strict: true,
  });
  const rounds = values.rounds === undefined ? DEFAULT_ROUNDS : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds <= 0) {
    log(`--rounds must be a whole number above 0, not "${values.rounds}"`);
    return 2;
  }
  const command = `node --import tsx bench/slack-search.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const results = await benchSlackSearch(rounds, values['keep-worktree'], command);
  process.stdout.write(`\n${formatSlackSearch(results)}\n`);
  await mkdir(join(ROOT, '.bench'), { recursive: true });
  await writeFile(RESULTS_PATH, `${JSON.stringify(results, null, 2)}\n`);
  log(`Figures written to ${RESULTS_PATH}`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main();
