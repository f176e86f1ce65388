// demo-relay-server.js: the stock socket.io@4 relay that Peercam must
// interoperate with, written the way the well-known WebRTC demo does it.
//
// Listens on 127.0.0.1 with an ephemeral port and prints the port as the
// first line on stdout. Exits when stdin closes (the test went away) or after
// PEERCAM_DEMO_LIFETIME_MS (default 60 s), so it can never outlive a test.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

const http = require('http');
const { Server } = require('socket.io');

const CAPACITY = 2;
const httpServer = http.createServer();
const io = new Server(httpServer, {
  // Short pings so the interop test also exercises ping/pong.
  pingInterval: Number(process.env.PEERCAM_DEMO_PING_INTERVAL || 25000),
  pingTimeout: Number(process.env.PEERCAM_DEMO_PING_TIMEOUT || 20000),
});

io.on('connection', (socket) => {
  let room = null;

  socket.on('create or join', (name) => {
    if (typeof name !== 'string' || name.length === 0) {
      socket.emit('error', "'create or join' needs a room name");
      return;
    }
    const members = io.sockets.adapter.rooms.get(name);
    const count = members ? members.size : 0;

    if (count === 0) {
      socket.join(name);
      room = name;
      socket.emit('create', name, socket.id);
    } else if (count < CAPACITY) {
      socket.join(name);
      room = name;
      socket.emit('join', name, socket.id);
      socket.to(name).emit('call');
    } else {
      socket.emit('full', name);
    }
  });

  for (const event of ['signal', 'ice', 'bye']) {
    socket.on(event, (...args) => {
      if (room !== null)
        socket.to(room).emit(event, ...args);
    });
  }

  socket.on('disconnect', () => {
    if (room !== null)
      socket.to(room).emit('bye', socket.id);
  });
});

httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${httpServer.address().port}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), Number(process.env.PEERCAM_DEMO_LIFETIME_MS || 60000)).unref();
