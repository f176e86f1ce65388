// peercam-socket.js — a small Socket.IO 5 / Engine.IO 4 client over a plain
// WebSocket or HTTP long-polling, enough for the demo's events.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

// Engine.IO packet types (first character of every packet).
const EIO_OPEN = '0', EIO_CLOSE = '1', EIO_PING = '2', EIO_PONG = '3', EIO_MESSAGE = '4', EIO_NOOP = '6';
// Socket.IO packet types (first character after EIO_MESSAGE).
const SIO_CONNECT = '0', SIO_DISCONNECT = '1', SIO_EVENT = '2', SIO_CONNECT_ERROR = '4';
const RECORD_SEPARATOR = '\x1e';

class PeercamSocket {
  // base: the server's origin ("https://host:port") or '' for this page's one.
  // options.transport: 'websocket' (default) or 'polling'; options.token: auth.token.
  constructor (base, options = {}) {
    this.base = base || window.location.origin;
    this.transport = options.transport === 'polling' ? 'polling' : 'websocket';
    this.token = options.token || null;
    this.handlers = new Map();
    this.sid = null;
    this.id = null;
    this.connected = false;
    this.closed = false;
    this.ws = null;
    this.sendQueue = [];
    this.posting = false;
    this.pingTimer = null;
    this.pingTimeoutMs = 45000;
  }

  on (event, handler) {
    if (!this.handlers.has(event))
      this.handlers.set(event, []);
    this.handlers.get(event).push(handler);
    return this;
  }

  fire (event, args) {
    for (const handler of this.handlers.get(event) || []) {
      try {
        handler(...args);
      } catch (e) {
        console.error(`peercam-socket: "${event}" handler failed`, e);
      }
    }
  }

  emit (event, ...args) {
    this.sendPacket(EIO_MESSAGE + SIO_EVENT + JSON.stringify([event, ...args]));
  }

  endpoint (scheme) {
    const url = new URL('/socket.io/', this.base);
    if (scheme)
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('EIO', '4');
    url.searchParams.set('transport', this.transport);
    if (this.sid && this.transport === 'polling')
      url.searchParams.set('sid', this.sid);
    return url;
  }

  connect () {
    this.closed = false;
    if (this.transport === 'websocket')
      this.connectWebSocket();
    else
      this.poll();
    return this;
  }

  connectWebSocket () {
    const ws = new WebSocket(this.endpoint(true).href);
    this.ws = ws;
    ws.onmessage = (e) => { if (typeof e.data === 'string') this.handlePacket(e.data); };
    ws.onclose = () => this.lost('transport close');
    ws.onerror = () => this.lost('transport error');
  }

  async poll () {
    while (!this.closed) {
      const url = this.endpoint(false);
      url.searchParams.set('t', Date.now().toString(36));
      let text;
      try {
        const response = await fetch(url.href, { cache: 'no-store', credentials: 'omit' });
        if (!response.ok)
          throw new Error(`HTTP ${response.status}`);
        text = await response.text();
      } catch (e) {
        this.lost(`polling error: ${e.message}`);
        return;
      }
      if (this.closed)
        return;
      for (const packet of text.split(RECORD_SEPARATOR))
        if (packet.length > 0)
          this.handlePacket(packet);
    }
  }

  sendPacket (packet) {
    if (this.closed)
      return;
    if (this.transport === 'websocket') {
      if (this.ws && this.ws.readyState === WebSocket.OPEN)
        this.ws.send(packet);
      else
        this.sendQueue.push(packet);
      return;
    }
    this.sendQueue.push(packet);
    this.flushPolling();
  }

  // Engine.IO allows one POST at a time: queue the rest and join them with 0x1e.
  async flushPolling () {
    if (this.posting || this.sid === null || this.sendQueue.length === 0)
      return;
    this.posting = true;
    const body = this.sendQueue.splice(0).join(RECORD_SEPARATOR);
    try {
      const response = await fetch(this.endpoint(false).href, {
        method: 'POST', body, cache: 'no-store', credentials: 'omit',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      });
      if (!response.ok)
        throw new Error(`HTTP ${response.status}`);
      await response.text();
    } catch (e) {
      this.posting = false;
      this.lost(`polling error: ${e.message}`);
      return;
    }
    this.posting = false;
    this.flushPolling();
  }

  armPingTimeout () {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => this.lost('ping timeout'), this.pingTimeoutMs);
  }

  handlePacket (packet) {
    const type = packet[0];
    const data = packet.slice(1);

    switch (type) {
    case EIO_OPEN: {
      const open = JSON.parse(data);
      this.sid = open.sid;
      this.pingTimeoutMs = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
      this.armPingTimeout();
      const connect = EIO_MESSAGE + SIO_CONNECT + (this.token ? JSON.stringify({ token: this.token }) : '');
      if (this.transport === 'websocket') {
        this.ws.send(connect);
        for (const queued of this.sendQueue.splice(0))
          this.ws.send(queued);
      } else {
        this.sendQueue.unshift(connect);
        this.flushPolling();
      }
      break;
    }
    case EIO_PING:
      this.armPingTimeout();
      this.sendPacket(EIO_PONG + data);
      break;
    case EIO_CLOSE:
      this.lost('server close');
      break;
    case EIO_MESSAGE:
      this.handleSocketIO(data);
      break;
    case EIO_NOOP:
    default:
      break;
    }
  }

  handleSocketIO (data) {
    const type = data[0];
    let rest = data.slice(1);

    // Only the "/" namespace is used; skip a namespace prefix and an ack id.
    if (rest.startsWith('/')) {
      const comma = rest.indexOf(',');
      rest = comma >= 0 ? rest.slice(comma + 1) : '';
    }
    rest = rest.replace(/^[0-9]+/, '');

    switch (type) {
    case SIO_CONNECT: {
      const payload = rest ? JSON.parse(rest) : {};
      this.id = payload.sid || null;
      // Peercam's server offers addressed rooms: ids of who sends what.
      this.addressed = payload.addressed === true;
      this.connected = true;
      this.fire('connect', []);
      break;
    }
    case SIO_CONNECT_ERROR: {
      // Refused by the server (e.g. a bad token): retrying will not help.
      const payload = rest ? JSON.parse(rest) : {};
      this.teardown();
      this.fire('connect_error', [payload.message || String(payload), true]);
      break;
    }
    case SIO_EVENT: {
      const args = JSON.parse(rest);
      if (Array.isArray(args) && typeof args[0] === 'string')
        this.fire(args[0], args.slice(1));
      break;
    }
    case SIO_DISCONNECT:
      this.lost('io server disconnect');
      break;
    default:
      break;
    }
  }

  // Stops everything; returns whether it was running.
  teardown () {
    if (this.closed)
      return false;
    this.closed = true;
    this.connected = false;
    clearTimeout(this.pingTimer);
    if (this.ws) {
      this.ws.onclose = this.ws.onerror = this.ws.onmessage = null;
      try { this.ws.close(); } catch (e) { /* already closed */ }
      this.ws = null;
    }
    return true;
  }

  lost (reason) {
    const wasConnected = this.connected;
    if (!this.teardown())
      return;
    if (wasConnected)
      this.fire('disconnect', [reason]);
    else
      this.fire('connect_error', [reason, false]);
  }

  // Leaves on purpose: tells the server (so the peer gets bye), no events.
  close () {
    if (this.closed)
      return;
    if (this.transport === 'websocket' && this.ws && this.ws.readyState === WebSocket.OPEN)
      this.ws.send(EIO_MESSAGE + SIO_DISCONNECT);
    else if (this.transport === 'polling' && this.sid)
      navigator.sendBeacon?.(this.endpoint(false).href, EIO_MESSAGE + SIO_DISCONNECT);
    this.teardown();
  }
}

window.PeercamSocket = PeercamSocket;
