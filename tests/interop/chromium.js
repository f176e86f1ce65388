// chromium.js — how the browser tests (browser-cases.js) and the benchmarks
// (bench/bench-common.js) start Debian's Chromium through playwright-core:
// one list of switches, never a downloaded browser; and the page hook both
// use to reach a page's peer connections.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

const CHROMIUM = process.env.PEERCAM_CHROMIUM || '/usr/bin/chromium';

// Headless with a fake camera that needs no permission prompt, quiet (no
// updates, sync or other background traffic), and without the sandbox and
// /dev/shm limits of a container.
const BASE_ARGS = [
  '--headless=new',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

// A hidden headless tab must not be throttled.
const UNTHROTTLED_ARGS = [
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

// options.loopback: gather loopback candidates (Chromium gathers none there
// without this switch); options.videoFile: a Y4M the fake camera plays;
// options.unthrottled: background tabs run at full speed.
function chromiumArgs ({ loopback = true, videoFile = null, unthrottled = false } = {}) {
  return [
    ...BASE_ARGS,
    ...(videoFile ? [`--use-file-for-fake-video-capture=${videoFile}`] : []),
    ...(unthrottled ? UNTHROTTLED_ARGS : []),
    ...(loopback ? ['--allow-loopback-in-peer-connection'] : []),
  ];
}

// A persistent context on @userDataDir; @flags go to chromiumArgs(), the
// rest of @options to playwright's launchPersistentContext().
function launchChromiumContext (userDataDir, flags = {}, options = {}) {
  const { chromium } = require('playwright-core');
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: false,            // --headless=new, not Playwright's own mode
    ...options,
    args: chromiumArgs(flags),
  });
}

// A page's init script that keeps every RTCPeerConnection the page makes
// in window.__pcs (for getStats); runs before the page's own scripts.
const KEEP_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();`;

module.exports = { CHROMIUM, chromiumArgs, launchChromiumContext, KEEP_PEER_CONNECTIONS };
