// bench-chromium-cpu.js — Chromium's CPU for a 720p30 call on loopback, the
// reference for `tools/bench call` (issue 15: Peercam at equal input).
//
// A Chromium caller (Peercam's /userA page, the fake camera playing the same
// Y4M the Peercam caller gets as file:) calls a Chromium viewer (/userB)
// through `peercam --host-only` on 127.0.0.1. Each browser is a process tree
// of its own (browser, renderer, GPU/utility processes); their utime+stime
// over the window, as a share of one core, is what is compared. The window
// starts once the caller sends 1280 wide (Chromium starts lower and ramps
// up), so both run the same resolution.
//
//   node bench/bench-chromium-cpu.js --peercam BIN --y4m FILE [--seconds 10]
//        [--peercam-cpu CALLER,VIEWER]   (percent, printed beside Chromium's)
//
// Loopback only; every wait is bounded.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { log, sleep, waitFor, children, startProcess, launchChromium, openPage,
        treeCpuSeconds, browserPid } = require('./bench-common.js');

function parseArgs (argv) {
  const opts = { seconds: 10, peercamCpu: null };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].replace(/^--/, '').split('=');
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (k === 'peercam') opts.peercam = value();
    else if (k === 'y4m') opts.y4m = value();
    else if (k === 'seconds') opts.seconds = Number(value());
    else if (k === 'peercam-cpu') opts.peercamCpu = value().split(',').map(Number);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  if (!opts.peercam || !opts.y4m)
    throw new Error('--peercam and --y4m are required');
  if (!(opts.seconds > 0 && opts.seconds <= 120))
    throw new Error('--seconds: 1 to 120');
  return opts;
}

async function outbound (page) {
  return page.evaluate(async () => {
    const pc = window.__pcs[window.__pcs.length - 1];
    let out = null;
    if (pc)
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video')
          out = { width: s.frameWidth, height: s.frameHeight, fps: s.framesPerSecond, bytes: s.bytesSent };
      });
    return out;
  });
}

async function main () {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'peercam-chromium-cpu-'));
  const contexts = [];
  let host = null;
  const t0 = Date.now();
  const clock = () => Date.now() - t0;
  const load0 = os.loadavg()[0].toFixed(2);

  try {
    fs.symlinkSync(path.resolve(opts.y4m), path.join(tmp, 'input.y4m'));
    host = startProcess('peercam host', opts.peercam,
      ['--host-only', '--port', '0', '--bind', '127.0.0.1', '--events'], {}, clock);
    const hosting = await host.waitEvent('hosting', 20000);
    const base = `http://127.0.0.1:${hosting.port}`;

    const viewerContext = await launchChromium(null, tmp, 'viewer');
    contexts.push(viewerContext);
    const viewer = await openPage(viewerContext, `${base}/userB?room=cpu`, 'chromium viewer');
    await waitFor('chromium viewer waiting', async () => (await viewer.evaluate(() => window.peercamState)) === 'waiting', 20000);

    const callerContext = await launchChromium(null, tmp, 'caller');
    contexts.push(callerContext);
    const caller = await openPage(callerContext, `${base}/userA?room=cpu`, 'chromium caller');
    await caller.click('#startButton');
    await waitFor('chromium local video', () => caller.evaluate(() => document.getElementById('localVideo').videoWidth > 0), 20000);
    await waitFor('chromium caller ready', async () => (await caller.evaluate(() => window.peercamState)) === 'ready', 20000);
    await caller.click('#callButton');
    await waitFor('the first frame at the viewer', () => viewer.evaluate(() => window.__frames.length > 0), 25000, 50);

    // Chromium starts at a low resolution and ramps up with its estimate.
    let sent = null;
    try {
      await waitFor('the caller sending 1280 wide', async () => {
        sent = await outbound(caller);
        return sent && sent.width >= 1280;
      }, 40000, 500);
    } catch (e) {
      log(`chromium caller still sends ${sent ? `${sent.width}x${sent.height}` : 'nothing'}: measuring anyway`);
    }
    await sleep(2000);

    const callerPid = browserPid(callerContext);
    const viewerPid = browserPid(viewerContext);
    if (!callerPid || !viewerPid)
      throw new Error('cannot find the Chromium browser processes');
    const c0 = treeCpuSeconds(callerPid), v0 = treeCpuSeconds(viewerPid);
    const f0 = await viewer.evaluate(() => window.__frames.length);
    const b0 = ((await outbound(caller)) || {}).bytes || 0;
    const w0 = Date.now();
    await sleep(opts.seconds * 1000);
    const c1 = treeCpuSeconds(callerPid), v1 = treeCpuSeconds(viewerPid);
    const f1 = await viewer.evaluate(() => window.__frames.length);
    const wall = (Date.now() - w0) / 1000;
    sent = await outbound(caller);
    const kbps = sent ? 8 * (sent.bytes - b0) / wall / 1000 : 0;
    const size = await viewer.evaluate(() => {
      const v = document.getElementById('remoteVideo');
      return `${v.videoWidth}x${v.videoHeight}`;
    });

    const cpct = 100 * (c1 - c0) / wall, vpct = 100 * (v1 - v0) / wall;
    const load1 = os.loadavg()[0].toFixed(2);
    const row = (figure, value, detail = '') => console.log(`${figure.padEnd(34)}${value.padEnd(16)}${detail}`);
    console.log(`\nChromium reference (same Y4M, ${os.cpus().length} cores, load ${load0} -> ${load1}, ` +
                `${path.basename(opts.y4m)}, loopback ICE)`);
    row('chromium caller / viewer', `${cpct.toFixed(1)}% / ${vpct.toFixed(1)}%`,
        `(sends ${sent ? `${sent.width}x${sent.height} ${Math.round(sent.fps || 0)} fps ${kbps.toFixed(0)} kbit/s` : '?'}, ` +
        `viewer ${size} ${((f1 - f0) / wall).toFixed(0)} fps, ${opts.seconds}s window)`);
    row('chromium caller+viewer', `${(cpct + vpct).toFixed(1)}%`, '(of one core)');
    if (opts.peercamCpu) {
      const [pc, pv] = opts.peercamCpu;
      const ratio = (pc + pv) / (cpct + vpct);
      row('peercam caller / viewer', `${pc.toFixed(1)}% / ${pv.toFixed(1)}%`, '(tools/bench call, same Y4M)');
      row('peercam / chromium caller', `${(pc / cpct).toFixed(2)}x`);
      row('peercam / chromium viewer', `${(pv / vpct).toFixed(2)}x`);
      row('peercam / chromium total', `${ratio.toFixed(2)}x`, `target <=0.6x  ${ratio <= 0.6 ? 'ok' : 'MISS'}`);
    }
  } finally {
    for (const context of contexts)
      await context.close().catch(() => {});
    if (host)
      await host.stop();
    for (const child of children)
      child.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => {
  log(`bench-chromium-cpu: ${e.stack || e}`);
  process.exit(1);
});
