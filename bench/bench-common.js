// bench-common.js — what the Node benchmark drivers share: logging, waiting,
// child processes with JSON-line events (peercam --events), and Chromium
// (Debian's, through playwright-core) with the fake camera playing a Y4M.
// Used by bench-network.js and bench-chromium-cpu.js.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const { CHROMIUM, launchChromiumContext, KEEP_PEER_CONNECTIONS } = require('../tests/interop/chromium.js');

const started = Date.now();
function log (message) {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}\n`);
}

function sleep (ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor (what, predicate, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value)
      return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// A child whose stdout is JSON lines (peercam --events); every event gets
// the driver's clock (ms since the cell's t0) as well.
function startProcess (name, command, args, env, clock) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, events: [], stderr: [], exited: null };
  children.add(child);
  // PEERCAM_BENCH_LOG_DIR=DIR keeps every line a child printed (its debug
  // log too), with the driver's clock, in DIR/NAME.log.
  const logDir = process.env.PEERCAM_BENCH_LOG_DIR;
  const logFile = logDir ? fs.createWriteStream(path.join(logDir, `${name.replace(/[^A-Za-z0-9_-]+/g, '-')}.log`), { flags: 'a' }) : null;
  const keep = (stream, line) => {
    if (logFile)
      logFile.write(`${clock()} ${stream} ${line}\n`);
  };
  child.on('exit', () => logFile && logFile.end());
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    keep('out', line);
    try {
      const event = JSON.parse(line);
      event.driver_ms = clock();
      proc.events.push(event);
    } catch (e) { /* not JSON */ }
  });
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    keep('err', line);
    if (proc.stderr.length < 200)
      proc.stderr.push(line);
  });
  child.on('exit', (code, signal) => {
    proc.exited = { code, signal };
    children.delete(child);
  });
  proc.waitEvent = (event, timeoutMs) => waitFor(`${name} "${event}"`, () => {
    const found = proc.events.find((e) => e.event === event);
    if (!found && proc.exited)
      throw new Error(`${name} exited (${JSON.stringify(proc.exited)}): ${proc.stderr.slice(-5).join(' | ')}`);
    return found;
  }, timeoutMs);
  proc.stop = async () => {
    if (proc.exited)
      return;
    child.kill('SIGTERM');
    try {
      await waitFor(`${name} to exit`, () => proc.exited, 5000);
    } catch (e) {
      child.kill('SIGKILL');
    }
  };
  return proc;
}

const children = new Set();

// ---- Chromium -----------------------------------------------------------------

// Records every RTCPeerConnection the page makes (in window.__pcs) and
// timestamps each frame of the remote video; runs before the page's own
// scripts.
const PAGE_HOOKS = `${KEEP_PEER_CONNECTIONS}
(() => {
  window.__frames = [];
  const watch = () => {
    const video = document.getElementById('remoteVideo');
    if (!video || !video.requestVideoFrameCallback)
      return;
    const onFrame = (now, meta) => {
      window.__frames.push([performance.timeOrigin + now, meta.presentedFrames, meta.width, meta.height]);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  document.addEventListener('DOMContentLoaded', watch);
})();`;

// Chromium with the fake camera playing TMP/input.y4m, inside network
// namespace @ns (null: this one, where loopback needs
// --allow-loopback-in-peer-connection, added then). The context's
// userDataDir names its processes (see processTree()).
async function launchChromium (ns, tmp, label) {
  let executablePath = CHROMIUM;
  if (ns) {
    executablePath = path.join(tmp, `chromium-${ns}.sh`);
    fs.writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  }
  const userDataDir = fs.mkdtempSync(path.join(tmp, `chromium-profile-${label}-`));
  const context = await launchChromiumContext(userDataDir, {
    videoFile: `${tmp}/input.y4m`,
    unthrottled: true,
    loopback: !ns,
  }, {
    executablePath,
    timeout: 60000,
    // Our own handlers finish the cell and stop everything (Playwright's
    // would exit the process at once).
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  context.userDataDir = userDataDir;
  await context.addInitScript(PAGE_HOOKS);
  return context;
}

async function openPage (context, url, label) {
  const page = await context.newPage();
  page.on('pageerror', (error) => log(`${label} page error: ${error.message}`));
  const response = await page.goto(url, { timeout: 20000 });
  if (!response || response.status() !== 200)
    throw new Error(`${url}: HTTP ${response && response.status()}`);
  return page;
}


// utime+stime (s) of a process and all its descendants, from /proc.
function treeCpuSeconds (rootPid) {
  const hz = 100;   // USER_HZ on Linux
  const stats = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry))
      continue;
    try {
      const text = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / hz });
    } catch (e) { /* gone meanwhile */ }
  }
  let total = 0;
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop();
    const s = stats.get(pid);
    if (s)
      total += s.cpu;
    for (const [child, c] of stats)
      if (c.ppid === pid)
        todo.push(child);
  }
  return total;
}

// The Chromium browser process of a context: the one started with its
// --user-data-dir (its children carry other switches).
function browserPid (context) {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry))
      continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes(`--user-data-dir=${context.userDataDir}`) && !args.some((a) => a.startsWith('--type=')))
        return Number(entry);
    } catch (e) { /* gone meanwhile */ }
  }
  return null;
}

module.exports = { CHROMIUM, log, sleep, waitFor, children, startProcess, launchChromium, openPage,
                   PAGE_HOOKS, treeCpuSeconds, browserPid };
