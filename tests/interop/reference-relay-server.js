// reference-relay-server.js: the reference system's relay exactly as it is
// (socket.io 4.4.1 / engine.io 6.1.3), not the kinder demo-relay-server.js.
//
// What it does, and all it does:
// - `create or join` (room): a room nobody is in is created and the socket
//   gets `create`(room, socket id); otherwise the socket joins and the others
//   get `call`. The joiner gets no answer at all, and there is no capacity.
// - `signal` and `ice` go to the room literally named "room", whatever room
//   the sender asked for.
// - No `bye` handler, no disconnect handler, nothing else answered.
//
// Listens on 127.0.0.1 with an ephemeral port and prints the port as the
// first line on stdout. Exits when stdin closes (the test went away) or after
// PEERCAM_DEMO_LIFETIME_MS (default 60 s), so it can never outlive a test.
// socket.io comes from PEERCAM_REFERENCE_NODE_PATH (tools/test installs
// socket.io@4.4.1 there), else from NODE_PATH.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

const http = require('http');
const path = require('path');

function loadSocketIo() {
  const dir = process.env.PEERCAM_REFERENCE_NODE_PATH;
  if (dir)
    return require(path.join(dir, 'socket.io'));
  return require('socket.io');
}

const { Server } = loadSocketIo();
const httpServer = http.createServer();
const io = new Server(httpServer);

io.sockets.on('connection', (socket) => {
  socket.on('create or join', (room) => {
    const clients = io.sockets.adapter.rooms.get(room);
    const count = clients ? clients.size : 0;

    socket.join(room);
    if (count === 0)
      socket.emit('create', room, socket.id);
    else
      socket.to(room).emit('call');
  });

  socket.on('signal', (message) => {
    socket.to('room').emit('signal', message);
  });

  socket.on('ice', (message) => {
    socket.to('room').emit('ice', message);
  });
});

httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${httpServer.address().port}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), Number(process.env.PEERCAM_DEMO_LIFETIME_MS || 60000)).unref();
