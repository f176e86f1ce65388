// stock-client.js — unmodified socket.io-client 4 against our server.
//
// Usage: node stock-client.js <http://127.0.0.1:port>
// Runs the demo flow twice (default transports = polling then upgrade, and
// websocket only): create/join/call, signal and ice both ways, bye on
// disconnect. Exits 0 only if every expected event arrived.
'use strict';

const { io } = require('socket.io-client');

const url = process.argv[2];
if (!url) {
  console.error('usage: stock-client.js <url>');
  process.exit(2);
}

const TIMEOUT_MS = 10000;

function once(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout waiting for '${event}'`)), TIMEOUT_MS);
    socket.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e)
    throw new Error(`${what}: expected ${e}, got ${a}`);
}

async function run(label, options) {
  const room = `room-${label}`;
  const a = io(url, { forceNew: true, reconnection: false, ...options });
  const b = io(url, { forceNew: true, reconnection: false, ...options });
  try {
    await Promise.all([once(a, 'connect'), once(b, 'connect')]);

    const created = once(a, 'create');
    a.emit('create or join', room);
    assertEqual(await created, [room, a.id], `${label}: create`);

    const joined = once(b, 'join');
    const call = once(a, 'call');
    b.emit('create or join', room);
    assertEqual(await joined, [room, b.id], `${label}: join`);
    assertEqual(await call, [], `${label}: call`);

    const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
    const answer = { type: 'answer', sdp: 'v=0\r\n' };
    const iceA = { candidate: 'candidate:1 1 UDP 2122260223 127.0.0.1 35115 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'a' };
    const iceB = { candidate: 'candidate:2 1 UDP 2122260223 127.0.0.1 35116 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'b' };

    let p = once(b, 'signal');
    a.emit('signal', offer);
    assertEqual(await p, [offer], `${label}: signal a→b`);
    p = once(a, 'signal');
    b.emit('signal', answer);
    assertEqual(await p, [answer], `${label}: signal b→a`);
    p = once(b, 'ice');
    a.emit('ice', iceA);
    assertEqual(await p, [iceA], `${label}: ice a→b`);
    p = once(a, 'ice');
    b.emit('ice', iceB);
    assertEqual(await p, [iceB], `${label}: ice b→a`);

    // Acks work with the stock client.
    p = once(b, 'ice');
    const acked = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: no ack`)), TIMEOUT_MS);
      a.emit('ice', iceA, (n) => { clearTimeout(timer); resolve(n); });
    });
    assertEqual(acked, 1, `${label}: ack`);
    assertEqual(await p, [iceA], `${label}: acked ice a→b`);

    if (options.transports === undefined)
      assertEqual(a.io.engine.transport.name, 'websocket', `${label}: upgraded transport`);

    const bye = once(b, 'bye');
    const aId = a.id;
    a.disconnect();
    assertEqual(await bye, [aId], `${label}: bye`);
    console.log(`ok - ${label}`);
  } finally {
    a.disconnect();
    b.disconnect();
  }
}

(async () => {
  try {
    await run('default-transports', {});
    await run('websocket-only', { transports: ['websocket'] });
    process.exit(0);
  } catch (e) {
    console.error(`not ok - ${e.message}`);
    process.exit(1);
  }
})();
