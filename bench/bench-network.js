// bench-network.js — Peercam and Chromium side by side on impaired links
// (issue 11 item 5). Run by `tools/bench network`, as root; prints figures,
// never a test.
//
//   node bench-network.js --peercam BIN --netem BIN --y4m FILE --results DIR
//        [--pairs p2p,p2c,c2p,c2c] [--links clean,loss1,...] [--duration S]
//        [--quick] [--warmup S] [--peercam-source test] [--name NETNS_PREFIX]
//   node bench-network.js --summarize RESULTS_DIR
//        the table again from a run's JSON (link metrics recomputed from the
//        forwarder's saved counters)
//
// PEERCAM_BENCH_LOG_DIR=DIR keeps each process's output (with
// G_MESSAGES_DEBUG=all, the caller's congestion log) in DIR/NAME.log;
// PEERCAM_BENCH_FULL_STATS=1 adds a Chromium receiver's SDP and full
// getStats() at the end of its cell to the JSON (chromium_full).
//
// --warmup S starts the window S seconds after the first frame (default 0:
// start-up is part of what a call feels like; Chromium starts at ~300
// kbit/s and a low resolution and takes ~20 s to reach 1280x720).
//
// Every cell (one link × one pair) gets fresh namespaces from
// tests/netns-link.sh: the sender in NAME-a (10.77.0.1), the receiver in
// NAME-b (10.77.0.2), peercam-netem in NAME-m adding delay/jitter/loss both
// ways and a tbf cap on NAME-m's egress towards the receiver. The signaling
// server (`peercam --host-only`) runs in NAME-a. Chromium runs inside its
// namespace (`ip netns exec` wrapper as its executable), driven over
// Playwright's pipe, so it only sees that namespace's veth. Cells go link by
// link, all pairs of a link back to back, so the Chromium reference runs
// under the same load as Peercam.
//
// Receiver metrics over a window of --duration seconds from the first
// frame: fps, freezes (an interval over max(3 × the mean of the previous
// ≤ 30 intervals, 150 ms), as libwebrtc counts them; the time from the last
// frame to the end of the window counts too), kbps. Peercam's viewer logs
// each frame reaching its sink (PEERCAM_FRAME_LOG); Chromium's page
// timestamps frames with requestVideoFrameCallback and reports getStats()
// inbound-rtp (fps there is frames decoded; Chromium's own freezeCount and
// totalFreezesDuration are kept in the JSON next to ours). Link metrics come from the forwarder's counters: what the
// sender offered (before loss and the cap), what the tbf let through, what
// was lost. For the step link, settle = the time after the step until the
// offered rate stays under the new cap for the rest of the window.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const { CHROMIUM, log, sleep, waitFor, children, startProcess, launchChromium, openPage } = require('./bench-common.js');
const LINK_SCRIPT = path.join(__dirname, '..', 'tests', 'netns-link.sh');
const ADDR_A = '10.77.0.1';
const ADDR_B = '10.77.0.2';
const PORT = 8080;

// D ± J each way (ms), loss both ways (%), tbf cap towards the receiver (kbit/s).
const LINKS = {
  clean:   { label: 'clean', delay: 20, jitter: 5, loss: 0 },
  loss1:   { label: '1 % loss', delay: 20, jitter: 5, loss: 1 },
  loss5:   { label: '5 % loss', delay: 20, jitter: 5, loss: 5 },
  cap2000: { label: '2 Mbit/s', delay: 20, jitter: 5, loss: 0, rate: 2000 },
  cap1000: { label: '1 Mbit/s', delay: 20, jitter: 5, loss: 0, rate: 1000 },
  cap500:  { label: '500 kbit/s', delay: 20, jitter: 5, loss: 0, rate: 500 },
  step:    { label: '4 → 0.7 Mbit/s mid-window', delay: 20, jitter: 5, loss: 0, rate: 4000, stepTo: 700 },
  rtt100:  { label: '100 ms RTT, 1 % loss', delay: 50, jitter: 5, loss: 1 },
};
const QUICK_LINKS = ['clean', 'loss5', 'cap1000', 'step'];
const PAIRS = {
  p2p: { label: 'Peercam → Peercam', sender: 'peercam', receiver: 'peercam' },
  p2c: { label: 'Peercam → Chromium', sender: 'peercam', receiver: 'chromium' },
  c2p: { label: 'Chromium → Peercam', sender: 'chromium', receiver: 'peercam' },
  c2c: { label: 'Chromium → Chromium', sender: 'chromium', receiver: 'chromium' },
};

// ---- options ----------------------------------------------------------------

function parseArgs (argv) {
  const opts = { pairs: null, links: null, duration: null, quick: false, peercamSource: null, warmup: 0 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length)
        throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
    case '--peercam': opts.peercam = value(); break;
    case '--netem': opts.netem = value(); break;
    case '--y4m': opts.y4m = value(); break;
    case '--results': opts.results = value(); break;
    case '--pairs': opts.pairs = value().split(','); break;
    case '--links': opts.links = value().split(','); break;
    case '--duration': opts.duration = Number(value()); break;
    case '--peercam-source': opts.peercamSource = value(); break;
    case '--warmup': opts.warmup = Number(value()); break;
    case '--name': opts.name = value(); break;
    case '--summarize': opts.summarize = value(); break;
    case '--quick': opts.quick = true; break;
    default: throw new Error(`unknown option ${arg}`);
    }
  }
  opts.links = opts.links || (opts.quick ? QUICK_LINKS : Object.keys(LINKS));
  opts.pairs = opts.pairs || Object.keys(PAIRS);
  opts.duration = opts.duration || (opts.quick ? 10 : 20);
  for (const l of opts.links)
    if (!LINKS[l]) throw new Error(`unknown link ${l} (${Object.keys(LINKS).join(', ')})`);
  for (const p of opts.pairs)
    if (!PAIRS[p]) throw new Error(`unknown pair ${p} (${Object.keys(PAIRS).join(', ')})`);
  if (!(opts.duration >= 4 && opts.duration <= 120))
    throw new Error('--duration must be 4..120 s');
  if (!(opts.warmup >= 0 && opts.warmup <= 120))
    throw new Error('--warmup must be 0..120 s');
  for (const k of opts.summarize ? [] : ['peercam', 'netem', 'y4m', 'results'])
    if (!opts[k]) throw new Error(`--${k} is required`);
  // Equal input: the Peercam caller plays the file Chromium's camera plays.
  if (!opts.peercamSource && opts.y4m)
    opts.peercamSource = `file:${path.resolve(opts.y4m)}`;
  return opts;
}

// ---- small helpers ----------------------------------------------------------

function linkScript (...args) {
  return execFileSync(LINK_SCRIPT, args, { encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function readNetemStats (name) {
  const file = path.join(process.env.TMPDIR || '/tmp', `peercam-netns-${name}`, 'stats.jsonl');
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  } catch (e) {
    return [];
  }
}

function loadAverage () {
  return os.loadavg().map((x) => Number(x.toFixed(2)));
}

// The page's stats, reduced to what the tables need.
async function pageStats (page) {
  return page.evaluate(async () => {
    const pc = window.__pcs[window.__pcs.length - 1];
    if (!pc)
      return null;
    const out = { wall_ms: Date.now() };
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.inbound = {
          framesDecoded: s.framesDecoded, framesReceived: s.framesReceived, framesDropped: s.framesDropped,
          framesPerSecond: s.framesPerSecond, freezeCount: s.freezeCount, totalFreezesDuration: s.totalFreezesDuration,
          bytesReceived: s.bytesReceived, packetsReceived: s.packetsReceived, packetsLost: s.packetsLost,
          nackCount: s.nackCount, pliCount: s.pliCount, frameWidth: s.frameWidth, frameHeight: s.frameHeight,
          jitterBufferDelay: s.jitterBufferDelay, jitterBufferEmittedCount: s.jitterBufferEmittedCount,
          jitterBufferTargetDelay: s.jitterBufferTargetDelay, firCount: s.firCount, keyFramesDecoded: s.keyFramesDecoded,
          retransmittedPacketsReceived: s.retransmittedPacketsReceived, ssrc: s.ssrc,
        };
      } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.outbound = {
          bytesSent: s.bytesSent, retransmittedBytesSent: s.retransmittedBytesSent, framesEncoded: s.framesEncoded,
          framesPerSecond: s.framesPerSecond, frameWidth: s.frameWidth, frameHeight: s.frameHeight,
          targetBitrate: s.targetBitrate, qualityLimitationReason: s.qualityLimitationReason,
          nackCount: s.nackCount, pliCount: s.pliCount,
        };
      } else if (s.type === 'remote-outbound-rtp' && s.kind === 'video') {
        // the receiver's own RTT (RTCP XR DLRR answers to its RRTR)
        out.remote = { rttMeasurements: s.roundTripTimeMeasurements, totalRoundTripTime: s.totalRoundTripTime };
      } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
        out.pair = { rtt: s.currentRoundTripTime, availableOutgoingBitrate: s.availableOutgoingBitrate };
      }
    });
    return out;
  });
}

// ---- metrics ------------------------------------------------------------------

// Frame times (ms, ascending) inside [start, end]: fps and freezes.
function frameMetrics (times, start, end) {
  const inWindow = times.filter((t) => t >= start && t <= end);
  const seconds = (end - start) / 1000;
  const result = { frames: inWindow.length, fps: inWindow.length / seconds, freezes: 0, freeze_s: 0, max_interval_ms: 0 };
  const recent = [];
  let previous = null;
  // The last frame before the window starts the first interval.
  const before = times.filter((t) => t < start);
  previous = before.length ? before[before.length - 1] : null;
  const account = (interval) => {
    const mean = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : 1000 / 30;
    if (interval > Math.max(3 * mean, 150)) {
      result.freezes++;
      result.freeze_s += interval / 1000;
    }
    result.max_interval_ms = Math.max(result.max_interval_ms, interval);
    recent.push(interval);
    if (recent.length > 30)
      recent.shift();
  };
  for (const t of inWindow) {
    if (previous !== null)
      account(t - Math.max(previous, start));
    previous = t;
  }
  // Nothing since the last frame: frozen until the end of the window.
  account(end - (previous === null ? start : Math.max(previous, start)));
  if (inWindow.length === 0)
    result.freeze_s = seconds;
  result.freeze_s = Math.min(result.freeze_s, seconds);
  return result;
}

// Forwarder samples (cumulative counters) → rates per 500 ms slice, on the
// driver's clock; only the sender's direction (ab) matters for the tables.
function linkMetrics (samples, t0Wall, start, end, stepAt, stepTo) {
  const rows = samples.map((s) => ({ t: s.t_ms, ab: s.ab, ba: s.ba }));
  const at = (t) => {
    let best = null;
    for (const r of rows)
      if (r.t <= t) best = r;
    return best;
  };
  const a = at(start) || rows[0];
  const b = at(end) || rows[rows.length - 1];
  if (!a || !b || b.t <= a.t)
    return null;
  const secs = (b.t - a.t) / 1000;
  const d = (k) => b.ab[k] - a.ab[k];
  const out = {
    offered_kbps: d('in_bytes') * 8 / 1000 / secs,
    delivered_kbps: (b.ab.tx_bytes - a.ab.tx_bytes) * 8 / 1000 / secs,
    loss_pct: d('in_pkts') ? 100 * (d('lost') + d('refused') + d('overflow')) / d('in_pkts') : 0,
    random_loss_pct: d('in_pkts') ? 100 * d('lost') / d('in_pkts') : 0,
    cap_drop_pct: d('in_pkts') ? 100 * d('refused') / d('in_pkts') : 0,
    // What the receiver sends back (its RTCP feedback and reports).
    feedback_kbps: (b.ba.in_bytes - a.ba.in_bytes) * 8 / 1000 / secs,
    feedback_pps: (b.ba.in_pkts - a.ba.in_pkts) / secs,
    netem_late_max_ms: Math.max(0, ...rows.filter((r) => r.t >= a.t && r.t <= b.t).map((r) => Math.max(r.ab.late_max_ms, r.ba.late_max_ms))),
  };
  // Offered rate over 1 s, every 500 ms: the series for the step.
  const series = [];
  for (let i = 2; i < rows.length; i++) {
    const r0 = rows[i - 2], r1 = rows[i];
    series.push({ t: r1.t, kbps: (r1.ab.in_bytes - r0.ab.in_bytes) * 8 / (r1.t - r0.t) });
  }
  out.offered_series = series.filter((s) => s.t >= start - 1000 && s.t <= end + 500)
    .map((s) => [Math.round(s.t - start), Math.round(s.kbps)]);
  if (stepAt !== undefined) {
    // Settled: from then on every 1-s rate is under the new cap. A sender
    // that was under it already (the 2 s before the step) has nothing to do.
    const pre = at(stepAt), pre2 = at(stepAt - 2000);
    if (pre && pre2 && pre.t > pre2.t)
      out.before_step_kbps = (pre.ab.in_bytes - pre2.ab.in_bytes) * 8 / (pre.t - pre2.t);
    out.under_before_step = out.before_step_kbps !== undefined && out.before_step_kbps <= stepTo;
    const after = series.filter((s) => s.t >= stepAt && s.t <= end);
    let settle = null;
    for (let i = 0; i < after.length; i++) {
      if (after.slice(i).every((s) => s.kbps <= stepTo)) {
        settle = Math.max(0, (after[i].t - 1000 - stepAt) / 1000);   // the 1-s slice began then
        break;
      }
    }
    out.settle_s = out.under_before_step ? 0 : settle;
    const tail = series.filter((s) => s.t >= end - 4000 && s.t <= end);
    out.after_step_kbps = tail.length ? tail.reduce((x, s) => x + s.kbps, 0) / tail.length : null;
    if (pre && b.t > pre.t)
      out.after_step_delivered_kbps = (b.ab.tx_bytes - pre.ab.tx_bytes) * 8 / (b.t - pre.t);
  }
  return out;
}

// ---- one cell ---------------------------------------------------------------

async function runCell (opts, ctx, linkName, pairName) {
  const link = LINKS[linkName];
  const pair = PAIRS[pairName];
  const name = ctx.nsName;
  const nsA = `${name}-a`, nsB = `${name}-b`;
  const t0 = Date.now();
  const clock = () => Date.now() - t0;
  const cell = {
    link: linkName, link_label: link.label, pair: pairName, pair_label: pair.label,
    params: { ...link, duration_s: opts.duration, warmup_s: opts.warmup }, load_start: loadAverage(),
    peercam_source: opts.peercamSource,
  };
  const procs = [];
  const contexts = [];
  const peercamEnv = { GST_REGISTRY_UPDATE: 'no', XDG_DATA_HOME: `${ctx.tmp}/data`, XDG_CONFIG_HOME: `${ctx.tmp}/config` };
  const nsProc = (label, ns, args, env = {}) => {
    const proc = startProcess(label, 'ip', ['netns', 'exec', ns, 'env', ...Object.entries({ ...peercamEnv, ...env }).map(([k, v]) => `${k}=${v}`), opts.peercam, ...args], {}, clock);
    procs.push(proc);
    return proc;
  };

  const spec = `${link.delay},${link.jitter},${link.loss}`;
  linkScript('start', name, opts.netem, '--ab', spec, '--ba', spec, '--timeout', String(opts.duration + 120),
    ...(link.rate ? ['--rate', String(link.rate)] : []));
  try {
    const host = nsProc('host', nsA, ['--host-only', '--port', String(PORT), '--bind', '0.0.0.0', '--events']);
    await host.waitEvent('hosting', 15000);
    const room = `bench-${linkName}-${pairName}`;
    const frameLog = path.join(ctx.tmp, `frames-${linkName}-${pairName}.log`);
    let receiver = {}, sender = {};

    // Receiver first, so the caller finds it in the room.
    if (pair.receiver === 'peercam') {
      receiver.proc = nsProc('peercam viewer', nsB, ['--headless', '--viewer', '--server', `http://${ADDR_A}:${PORT}`,
        '--room', room, '--ice-address', ADDR_B, '--events'], { PEERCAM_FRAME_LOG: frameLog });
      await receiver.proc.waitEvent('joined', 20000);
    } else {
      const context = await launchChromium(nsB, ctx.tmp, 'receiver');
      contexts.push(context);
      receiver.page = await openPage(context, `http://${ADDR_A}:${PORT}/userB?room=${room}`, 'chromium viewer');
      await waitFor('chromium viewer waiting', async () => (await receiver.page.evaluate(() => window.peercamState)) === 'waiting', 20000);
    }

    const callAt = clock();
    if (pair.sender === 'peercam') {
      sender.proc = nsProc('peercam caller', nsA, ['--headless', '--caller', '--source', opts.peercamSource, '--call',
        '--server', `http://127.0.0.1:${PORT}`, '--room', room, '--ice-address', ADDR_A, '--events']);
    } else {
      const context = await launchChromium(nsA, ctx.tmp, 'sender');
      contexts.push(context);
      // From 127.0.0.1 the page is a secure context, so it may open the camera.
      sender.page = await openPage(context, `http://127.0.0.1:${PORT}/userA?room=${room}`, 'chromium caller');
      await sender.page.click('#startButton');
      await waitFor('chromium local video', () => sender.page.evaluate(() => document.getElementById('localVideo').videoWidth > 0), 20000);
      await waitFor('chromium caller ready', async () => (await sender.page.evaluate(() => window.peercamState)) === 'ready', 20000);
      await sender.page.click('#callButton');
    }

    // The window starts at the first frame at the receiver.
    const firstFrameTimeout = 25000;
    let firstFrame = null;
    try {
      firstFrame = await waitFor('the first frame', async () => {
        if (receiver.proc) {
          const e = receiver.proc.events.find((x) => x.event === 'first-frame');
          if (receiver.proc.exited)
            throw new Error(`peercam viewer exited: ${receiver.proc.stderr.slice(-3).join(' | ')}`);
          return e ? e.driver_ms : null;
        }
        const n = await receiver.page.evaluate(() => window.__frames.length);
        return n > 0 ? clock() : null;
      }, firstFrameTimeout, 50);
    } catch (e) {
      if (!/timed out/.test(e.message))
        throw e;
    }
    cell.first_frame_ms = firstFrame === null ? null : firstFrame - callAt;
    const start = (firstFrame === null ? clock() : firstFrame) + opts.warmup * 1000;
    const end = start + opts.duration * 1000;
    const stepAt = link.stepTo ? start + opts.duration * 500 : undefined;
    cell.window_start_ms = start;   // on the cell's clock, like netem_samples' t_ms
    let stepped = false;
    const samples = { receiver: [], sender: [] };
    while (clock() < end + 300) {
      if (stepAt !== undefined && !stepped && clock() >= stepAt) {
        linkScript('rate', name, String(link.stepTo));
        cell.step_done_ms = clock() - start;
        stepped = true;
      }
      if (receiver.page) {
        const s = await pageStats(receiver.page).catch(() => null);
        if (s) samples.receiver.push({ t: clock(), ...s });
      }
      if (sender.page) {
        const s = await pageStats(sender.page).catch(() => null);
        if (s) samples.sender.push({ t: clock(), ...s });
      }
      await sleep(250);
    }

    // Receiver frames on the driver's clock.
    let frameTimes = [];
    if (receiver.proc) {
      // T_US is on the viewer's own clock (since its start); anchor it with
      // its first-frame event, which the driver timestamped.
      const ff = receiver.proc.events.find((x) => x.event === 'first-frame');
      let lines = [];
      try {
        lines = fs.readFileSync(frameLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));
      } catch (e) { /* no frames */ }
      if (ff && lines.length) {
        const offset = ff.driver_ms - ff.t_ms;
        frameTimes = lines.map(([us]) => us / 1000 + offset);
        cell.receiver_sizes = [...new Set(lines.map(([, w, h]) => `${w}x${h}`))];
        cell.receiver_size_changes = sizeChanges(frameTimes, lines.map(([, w, h]) => `${w}x${h}`));
      }
      const stats = receiver.proc.events.filter((e) => e.event === 'stats' && e.driver_ms >= start && e.driver_ms <= end);
      cell.receiver_engine_kbps = stats.length ? stats.reduce((x, e) => x + e.kbps, 0) / stats.length : null;
    } else {
      const frames = await receiver.page.evaluate(() => window.__frames);
      if (process.env.PEERCAM_BENCH_FULL_STATS) {
        cell.chromium_full = await receiver.page.evaluate(async () => {
          const pc = window.__pcs[window.__pcs.length - 1];
          const stats = [];
          (await pc.getStats()).forEach((s) => stats.push(s));
          return { local: pc.localDescription && pc.localDescription.sdp, remote: pc.remoteDescription && pc.remoteDescription.sdp, stats };
        }).catch(() => null);
      }
      const offset = t0;   // wall clock → driver clock
      frameTimes = frames.map(([wall]) => wall - offset);
      cell.receiver_sizes = [...new Set(frames.map(([, , w, h]) => `${w}x${h}`))];
      cell.receiver_size_changes = sizeChanges(frameTimes, frames.map(([, , w, h]) => `${w}x${h}`));
      const inWin = samples.receiver.filter((s) => s.inbound && s.t >= start && s.t <= end);
      if (inWin.length >= 2) {
        const a = inWin[0].inbound, b = inWin[inWin.length - 1].inbound;
        const secs = (inWin[inWin.length - 1].t - inWin[0].t) / 1000;
        cell.chromium_inbound = {
          fps: (b.framesDecoded - a.framesDecoded) / secs,
          kbps: (b.bytesReceived - a.bytesReceived) * 8 / 1000 / secs,
          loss_pct: (b.packetsLost - a.packetsLost) / Math.max(1, (b.packetsReceived - a.packetsReceived) + (b.packetsLost - a.packetsLost)) * 100,
          freezeCount: b.freezeCount - a.freezeCount,
          totalFreezesDuration: b.totalFreezesDuration - a.totalFreezesDuration,
          nackCount: b.nackCount - a.nackCount, pliCount: b.pliCount - a.pliCount,
          last_size: `${b.frameWidth}x${b.frameHeight}`,
          // the jitter buffer's mean target (it adds the RTT once frames
          // needed retransmissions, if it knows the RTT)
          target_delay_ms: b.jitterBufferEmittedCount > a.jitterBufferEmittedCount
            ? 1000 * (b.jitterBufferTargetDelay - a.jitterBufferTargetDelay) / (b.jitterBufferEmittedCount - a.jitterBufferEmittedCount) : null,
        };
        const last = inWin[inWin.length - 1].remote;
        if (last)
          cell.chromium_inbound.rtt_measurements = last.rttMeasurements;
      }
    }
    cell.receiver = frameMetrics(frameTimes, start, end);
    // requestVideoFrameCallback follows the compositor (60 Hz, coalescing
    // frames under load): good for gaps, not for counting; frames decoded
    // count them.
    if (cell.chromium_inbound) {
      cell.receiver.callback_fps = cell.receiver.fps;
      cell.receiver.fps = cell.chromium_inbound.fps;
    }
    if (sender.proc) {
      const stats = sender.proc.events.filter((e) => e.event === 'stats' && e.driver_ms >= start && e.driver_ms <= end);
      cell.sender_engine = stats.length ? {
        kbps: stats.reduce((x, e) => x + e.kbps, 0) / stats.length,
        fps: stats.reduce((x, e) => x + e.fps, 0) / stats.length,
      } : null;
    } else {
      const out = samples.sender.filter((s) => s.outbound && s.t >= start && s.t <= end);
      if (out.length >= 2) {
        const a = out[0].outbound, b = out[out.length - 1].outbound;
        const secs = (out[out.length - 1].t - out[0].t) / 1000;
        cell.chromium_outbound = {
          kbps: (b.bytesSent - a.bytesSent) * 8 / 1000 / secs,
          fps: (b.framesEncoded - a.framesEncoded) / secs,
          last_size: `${b.frameWidth}x${b.frameHeight}`,
          quality_limitation: b.qualityLimitationReason,
          target_kbps: b.targetBitrate ? b.targetBitrate / 1000 : null,
        };
      }
    }
    // Forwarder counters, on the driver's clock through their wall_ms.
    const netem = readNetemStats(name);
    if (netem.length) {
      netem.forEach((s) => { s.t_ms = s.wall_ms - t0; });
      cell.link_metrics = linkMetrics(netem, t0, start, end, stepAt, link.stepTo);
      cell.link_metrics.netem_sched = netem[netem.length - 1].sched;
      cell.netem_samples = netem;   // cumulative counters every 500 ms, t_ms on the cell's clock
    }
    cell.samples = samples;
    cell.frame_times_ms = frameTimes.map((t) => Math.round((t - start) * 10) / 10);
    cell.events = procs.map((p) => ({ name: p.name, events: p.events.filter((e) => e.event !== 'stats').slice(0, 40), stderr: p.stderr.slice(-20) }));
  } catch (e) {
    cell.error = String(e.message || e);
    cell.events = procs.map((p) => ({ name: p.name, events: p.events.slice(0, 40), stderr: p.stderr.slice(-20) }));
  } finally {
    for (const c of contexts)
      await c.close().catch(() => {});
    for (const p of procs.reverse())
      await p.stop();
    try {
      linkScript('stop', name);
    } catch (e) {
      log(`netns-link stop: ${e.message}`);
    }
  }
  cell.load_end = loadAverage();
  if (interrupted)
    cell.interrupted = true;   // its processes got the Ctrl-C too
  return cell;
}

// ---- the table ----------------------------------------------------------------

function fmt (x, digits = 0) {
  return x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(digits);
}

// [ms after the first frame, size] at the first frame and at each change.
function sizeChanges (times, sizes) {
  const out = [];
  for (let i = 0; i < sizes.length; i++)
    if (i === 0 || sizes[i] !== sizes[i - 1])
      out.push([Math.round(times[i] - times[0]), sizes[i]]);
  return out;
}

function cellSummary (c) {
  if (c.interrupted)
    return 'interrupted';
  if (c.error)
    return `error: ${c.error.slice(0, 60)}`;
  if (c.first_frame_ms === null)
    return 'no first frame';
  const r = c.receiver, l = c.link_metrics || {};
  let s = `${fmt(r.fps)} fps, ${r.freezes} frz/${fmt(r.freeze_s, 1)} s, ${fmt(l.delivered_kbps)} kbps`;
  if (c.params.rate)
    s += `, sends ${fmt(l.offered_kbps)}/${c.params.stepTo ? `${c.params.rate}→${c.params.stepTo}` : c.params.rate}`;
  else
    s += `, sends ${fmt(l.offered_kbps)}`;
  s += `, loss ${fmt(l.loss_pct, 1)} %`;
  if (l.feedback_kbps !== undefined)
    s += `, back ${fmt(l.feedback_kbps)} kbps`;
  if (c.receiver_size_changes && c.receiver_size_changes.length)
    s += `, sizes ${c.receiver_size_changes.slice(0, 6).map(([t, sz]) => `${sz}@${(t / 1000).toFixed(1)}s`).join(' ')}`;
  if (c.params.stepTo)
    s += l.under_before_step ? `, was under ${c.params.stepTo} (${fmt(l.before_step_kbps)})`
      : `, settle ${l.settle_s === null || l.settle_s === undefined ? 'never' : fmt(l.settle_s, 1) + ' s'} → ${fmt(l.after_step_kbps)}`;
  return s;
}

// The issue's targets, per cell, against the Chromium → Chromium cell of
// the same link in the same run (the reference):
//  - fps: at least the reference's, compared as the table shows them
//    (whole frames: a slack of 0.5 fps);
//  - freeze: total freeze time at most the reference's + 0.5 s;
//  - rate (capped links): the sender never offers more than 1.1 × the cap
//    for over 1 s, i.e. no two consecutive 1-s rates (500 ms apart, a 1.5-s
//    span) above it; after a step the new cap counts from 3 s on;
//  - step: the offered rate settles under the new cap within 3 s and the
//    receiver freezes less than 1 s in total from the step to the end.
const FPS_SLACK = 0.5;
const FREEZE_SLACK_S = 0.5;
const OVER_LINK = 1.1;
const STEP_SETTLE_S = 3;
const STEP_FREEZE_S = 1;

function rateCheck (c) {
  const l = c.link_metrics;
  if (!c.params.rate || !l || !l.offered_series)
    return null;
  const durMs = c.params.duration_s * 1000;
  const stepMs = c.params.stepTo ? c.step_done_ms : undefined;
  let run = 0, worst = 0, over = false;
  for (const [t, kbps] of l.offered_series) {
    if (t < 1000 || t > durMs)
      continue;   // only 1-s rates wholly inside the window
    let cap = c.params.rate;
    if (stepMs !== undefined && t - 1000 >= stepMs) {
      if (t - 1000 < stepMs + STEP_SETTLE_S * 1000) {
        run = 0;   // settling: the step target judges this
        continue;
      }
      cap = c.params.stepTo;
    }
    worst = Math.max(worst, kbps / cap);
    run = kbps > OVER_LINK * cap ? run + 1 : 0;
    if (run >= 2)
      over = true;
  }
  return { pass: !over, worst_ratio: worst };
}

function stepCheck (c) {
  if (!c.params.stepTo || !c.link_metrics || c.step_done_ms === undefined || !c.frame_times_ms)
    return null;
  const l = c.link_metrics;
  const settle = l.under_before_step ? 0 : l.settle_s;
  const after = frameMetrics(c.frame_times_ms, c.step_done_ms, c.params.duration_s * 1000);
  return {
    pass: settle !== null && settle !== undefined && settle <= STEP_SETTLE_S && after.freeze_s < STEP_FREEZE_S,
    settle_s: settle, freeze_s: after.freeze_s,
  };
}

function cellTargets (c, ref) {
  const word = (ok) => (ok ? 'PASS' : 'MISS');
  if (c.interrupted || c.error || c.first_frame_ms === null || !c.receiver)
    return { pass: false, text: 'MISS (no measurement)' };
  const parts = [];
  let pass = true;
  const add = (ok, text) => {
    pass = pass && ok;
    parts.push(`${word(ok)} ${text}`);
  };
  if (c.pair !== 'c2c') {
    if (!ref || ref.error || ref.interrupted || ref.first_frame_ms === null || !ref.receiver) {
      parts.push('fps/freeze: no reference');
    } else {
      add(c.receiver.fps >= ref.receiver.fps - FPS_SLACK, `fps ${fmt(c.receiver.fps, 1)} vs ${fmt(ref.receiver.fps, 1)}`);
      add(c.receiver.freeze_s <= ref.receiver.freeze_s + FREEZE_SLACK_S,
        `freeze ${fmt(c.receiver.freeze_s, 1)} vs ${fmt(ref.receiver.freeze_s, 1)} s`);
    }
  }
  const rate = rateCheck(c);
  if (rate)
    add(rate.pass, `rate ≤ ${fmt(100 * rate.worst_ratio)} % of cap`);
  const step = stepCheck(c);
  if (step)
    add(step.pass, `step settle ${step.settle_s === null || step.settle_s === undefined ? 'never' : fmt(step.settle_s, 1) + ' s'}, ${fmt(step.freeze_s, 1)} s frozen`);
  return { pass, text: parts.length ? parts.join(', ') : 'reference' };
}

function targetTable (cells, opts) {
  const pairs = opts.pairs;
  const lines = [];
  let judged = 0, passed = 0;
  lines.push(`| link | ${pairs.map((p) => PAIRS[p].label).join(' | ')} |`);
  lines.push(`|---|${pairs.map(() => '---').join('|')}|`);
  for (const l of opts.links) {
    const ref = cells.find((x) => x.link === l && x.pair === 'c2c');
    const row = pairs.map((p) => {
      const c = cells.find((x) => x.link === l && x.pair === p);
      if (!c)
        return '';
      const t = cellTargets(c, ref);
      if (p !== 'c2c') {
        judged++;
        if (t.pass)
          passed++;
      }
      return t.text;
    });
    lines.push(`| ${LINKS[l].label} | ${row.join(' | ')} |`);
  }
  lines.push('');
  lines.push(`Targets met in ${passed} of ${judged} Peercam cells (Chromium → Chromium is the reference; its own rate/step checks are shown, not counted).`);
  return lines.join('\n');
}

function table (cells, opts) {
  const pairs = opts.pairs;
  const lines = [];
  lines.push(`| link | ${pairs.map((p) => PAIRS[p].label).join(' | ')} |`);
  lines.push(`|---|${pairs.map(() => '---').join('|')}|`);
  for (const l of opts.links) {
    const row = pairs.map((p) => {
      const c = cells.find((x) => x.link === l && x.pair === p);
      return c ? cellSummary(c) : '';
    });
    lines.push(`| ${LINKS[l].label} | ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}

function report (header, cells, opts) {
  return [
    `Peercam and Chromium on impaired links — ${header.date}, ${header.chromium}, ${header.cpus} CPUs,`,
    `load ${header.load_start.join(' ')} at start, ${header.load_end.join(' ')} at end; ${opts.duration} s per cell from ${opts.warmup ? `${opts.warmup} s after ` : ''}the first frame.`,
    `Peercam's caller sends --source ${String(header.peercam_source).replace(/^file:.*\//, 'file:')}; Chromium's camera is ${header.y4m}.`,
    'Each cell: receiver fps, freezes (count/total), kbit/s delivered by the link; what the sender offered',
    '(before loss and the cap; "/cap"), packet loss on the link (random + cap drops), what the receiver sent',
    'back ("back": its RTCP, kbit/s), settle time after the step.',
    '',
    table(cells, opts),
    '',
    'Targets (issue 11) per cell, against Chromium → Chromium on the same link in this run: fps at least the',
    `reference's (−${FPS_SLACK} fps: whole frames), freeze time at most the reference's + ${FREEZE_SLACK_S} s; capped links: never over`,
    `${Math.round((OVER_LINK - 1) * 100)} % above the cap for over 1 s (two consecutive 1-s rates); the step: under the new cap within ${STEP_SETTLE_S} s, < ${STEP_FREEZE_S} s frozen after it.`,
    '',
    targetTable(cells, opts),
  ].join('\n');
}

// Re-renders a finished run: the same table, link metrics from the saved
// forwarder counters (so a fix to their definitions needs no new run).
function summarize (dir) {
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  const cells = [];
  for (const l of summary.links) {
    for (const p of summary.pairs) {
      const file = path.join(dir, `${l}--${p}.json`);
      if (!fs.existsSync(file))
        continue;
      const c = JSON.parse(fs.readFileSync(file, 'utf8'));
      const viewer = (c.events || []).find((x) => x.name === 'peercam viewer');
      const ff = viewer && viewer.events.find((e) => e.event === 'first-frame');
      const start = c.window_start_ms ?? (ff ? ff.driver_ms + 1000 * (summary.warmup_s || 0)
        : (c.samples && c.samples.receiver.length ? c.samples.receiver[0].t - 30 : null));
      if (c.netem_samples && start !== null && c.first_frame_ms !== null) {
        const end = start + summary.duration_s * 1000;
        const stepAt = c.step_done_ms !== undefined ? start + c.step_done_ms : undefined;
        const sched = c.link_metrics && c.link_metrics.netem_sched;
        c.link_metrics = linkMetrics(c.netem_samples, 0, start, end, stepAt, c.params.stepTo);
        c.link_metrics.netem_sched = sched;
      }
      cells.push(c);
    }
  }
  const opts = { links: summary.links, pairs: summary.pairs, duration: summary.duration_s, warmup: summary.warmup_s || 0 };
  const text = report(summary, cells, opts);
  fs.writeFileSync(path.join(dir, 'table.md'), text + '\n');
  process.stdout.write(text + '\n');
  return 0;
}

// ---- main ---------------------------------------------------------------------

let activeNs = null;
let tmpDir = null;   // profiles, wrappers, frame logs: removed however we end

function removeTmp () {
  if (tmpDir)
    fs.rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = null;
}

async function main () {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.summarize)
    return summarize(opts.summarize);
  fs.mkdirSync(opts.results, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'peercam-bench-network-'));
  fs.symlinkSync(path.resolve(opts.y4m), path.join(tmp, 'input.y4m'));
  tmpDir = tmp;
  const ctx = { tmp, nsName: opts.name || `pcb${process.pid}` };
  activeNs = ctx.nsName;
  const header = {
    date: new Date().toISOString(), host: os.hostname(), cpus: os.cpus().length, load_start: loadAverage(),
    chromium: execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim(),
    peercam_source: opts.peercamSource, y4m: path.basename(opts.y4m), duration_s: opts.duration, warmup_s: opts.warmup,
    links: opts.links, pairs: opts.pairs,
  };
  log(`${header.chromium}; load ${header.load_start.join(' ')}; ${opts.links.length} links × ${opts.pairs.length} pairs × ${opts.duration} s`);
  const cells = [];
  for (const l of opts.links) {
    for (const p of opts.pairs) {
      log(`${LINKS[l].label} / ${PAIRS[p].label} …`);
      const cell = await runCell(opts, ctx, l, p);
      cells.push(cell);
      fs.writeFileSync(path.join(opts.results, `${l}--${p}.json`), JSON.stringify(cell, null, 1));
      log(`  ${cellSummary(cell)}  (load ${cell.load_end.join(' ')})`);
      if (interrupted)
        break;
    }
    if (interrupted)
      break;
  }
  header.load_end = loadAverage();
  const text = report(header, cells, opts);
  fs.writeFileSync(path.join(opts.results, 'summary.json'), JSON.stringify({ ...header, cells: cells.map((c) => {
    const { samples, frame_times_ms, events, netem_samples, ...rest } = c;
    return rest;
  }) }, null, 1));
  fs.writeFileSync(path.join(opts.results, 'table.md'), text + '\n');
  process.stdout.write(text + '\n');
  process.stdout.write(`\nraw JSON per cell: ${opts.results}\n`);
  removeTmp();
  activeNs = null;
  return 0;
}

let interrupted = false;
let interruptedAt = 0;
function onSignal () {
  // timeout(1) forwards the terminal's SIGINT that we got too: a second
  // signal counts only when it comes a while after the first.
  if (interrupted && Date.now() - interruptedAt < 2000)
    return;
  if (interrupted) {
    for (const child of children)
      child.kill('SIGKILL');
    if (activeNs) {
      try { linkScript('stop', activeNs); } catch (e) { /* best effort */ }
    }
    removeTmp();
    process.exit(130);
  }
  interrupted = true;
  interruptedAt = Date.now();
  log('interrupted: finishing the current cell, then the table (^C again to stop now)');
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', () => { interrupted = true; interruptedAt = 0; onSignal(); });

main().then((status) => process.exit(status), (e) => {
  process.stderr.write(`bench-network: ${e.stack || e}\n`);
  for (const child of children)
    child.kill('SIGKILL');
  if (activeNs) {
    try { linkScript('stop', activeNs); } catch (err) { /* best effort */ }
  }
  removeTmp();
  process.exit(1);
});
