// peercam-call.js — the caller (/userA) and viewer (/userB) pages: the
// WebRTC demo's flow over PeercamSocket with the same events as the app.
//
// Query parameters: room (default "room"), transport=polling, token, and
// server=http(s)://host:port to signal through another server than this one.
// The page always shows its signaling server, and the caller page asks
// before it sends a camera through a server other than its own: a crafted
// link must not hand a visitor's camera to a stranger's server unnoticed.
// An invite link carries the token in the fragment (#token=…&pin=…), which
// the browser never sends to a server; it is read from there too.
//
// In an addressed room of Peercam's server (one caller, several viewers)
// the viewer page answers the caller whose offer it took, alone ({"to"}),
// and ignores the other viewers' messages and byes.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

(function () {
  const params = new URLSearchParams(window.location.search);
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const role = document.body.dataset.role;            // 'caller' or 'viewer'
  const room = params.get('room') || 'room';
  const statusLabel = document.getElementById('status');
  const localVideo = document.getElementById('localVideo');
  const remoteVideo = document.getElementById('remoteVideo');
  const buttons = {
    start: document.getElementById('startButton'),
    call: document.getElementById('callButton'),
    hangup: document.getElementById('hangupButton'),
  };

  const STATUS_TEXT = {
    'confirm-server': 'Check the signaling server below',
    connecting: 'Connecting to the server…',
    waiting: role === 'caller' ? 'Waiting for a viewer' : 'Waiting for a call',
    ready: 'A viewer is in the room',
    calling: role === 'caller' ? 'Calling…' : 'Answering…',
    connected: 'Connected',
    full: `Room “${room}” is full`,
    disconnected: 'Disconnected from the server',
    error: 'Error',
  };

  let socket = null;
  let pc = null;
  let localStream = null;
  let peerPresent = false;
  let pendingCandidates = [];
  let retryMs = 1000;
  let retryTimer = null;
  let leaving = false;
  let joinTimer = null;
  let callerId = null;       // viewer: whose offer we took, when the server says

  function setState (state, detail) {
    window.peercamState = state;
    document.body.dataset.state = state;
    statusLabel.textContent = detail ? `${STATUS_TEXT[state] || state}: ${detail}` : (STATUS_TEXT[state] || state);
    updateButtons();
  }

  // The signaling server's origin, and whether it is not this page's.
  function signalingServer () {
    const given = params.get('server');
    if (!given)
      return { origin: window.location.origin, foreign: false };
    let url;
    try {
      url = new URL(given);
    } catch (e) {
      return null;
    }
    const scheme = { 'ws:': 'http:', 'wss:': 'https:' }[url.protocol] || url.protocol;
    if (!['http:', 'https:'].includes(scheme) || url.username || url.password)
      return null;
    const origin = new URL(`${scheme}//${url.host}`).origin;
    return { origin, foreign: origin !== window.location.origin };
  }

  const server = signalingServer();
  let serverConfirmed = !(server && server.foreign && role === 'caller');

  function updateButtons () {
    if (role !== 'caller')
      return;
    const inCall = pc !== null;
    buttons.start.disabled = localStream !== null || !serverConfirmed;
    buttons.call.disabled = localStream === null || inCall || !(socket && socket.connected);
    buttons.hangup.disabled = !inCall;
  }

  function idleState () {
    return role === 'caller' && peerPresent ? 'ready' : 'waiting';
  }

  function closePeerConnection () {
    if (pc !== null) {
      pc.ontrack = pc.onicecandidate = pc.onconnectionstatechange = null;
      pc.close();
      pc = null;
    }
    pendingCandidates = [];
    if (remoteVideo)
      remoteVideo.srcObject = null;
  }

  // To our caller alone when we know who it is, else to the room.
  function send (event, payload) {
    if (role === 'viewer' && callerId !== null)
      socket.emit(event, payload, { to: callerId });
    else
      socket.emit(event, payload);
  }

  // Viewer, addressed room: is this from the caller we answer?
  function fromOurCaller (route) {
    const from = route && typeof route.from === 'string' ? route.from : null;
    return role !== 'viewer' || from === null || callerId === null || from === callerId;
  }

  function newPeerConnection () {
    closePeerConnection();
    const connection = new RTCPeerConnection({ iceServers: [] });
    connection.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate)
        send('ice', e.candidate.toJSON());
    };
    connection.onconnectionstatechange = () => {
      if (connection !== pc)
        return;
      switch (connection.connectionState) {
      case 'connected':
        setState('connected');
        break;
      case 'failed':
        closePeerConnection();
        setState(idleState(), 'the connection failed');
        break;
      default:
        break;
      }
    };
    if (role === 'viewer') {
      connection.ontrack = (e) => {
        remoteVideo.srcObject = e.streams[0] || new MediaStream([e.track]);
        remoteVideo.play().catch(() => {});
      };
    }
    pc = connection;
    return connection;
  }

  async function flushCandidates () {
    for (const candidate of pendingCandidates.splice(0)) {
      try {
        await pc.addIceCandidate(candidate);
      } catch (e) {
        console.warn('peercam: candidate refused', e);
      }
    }
  }

  async function getLocalVideo () {
    try {
      localStream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
      localVideo.srcObject = localStream;
      updateButtons();
    } catch (e) {
      setState('error', window.isSecureContext ? e.message
        : 'browsers only share a camera with HTTPS pages: host with --tls');
    }
  }

  async function call () {
    if (localStream === null || pc !== null)
      return;
    const connection = newPeerConnection();
    for (const track of localStream.getVideoTracks())
      connection.addTransceiver(track, { direction: 'sendonly', streams: [localStream] });
    setState('calling');
    const offer = await connection.createOffer();
    await connection.setLocalDescription(offer);
    socket.emit('signal', { type: offer.type, sdp: offer.sdp });
  }

  function hangUp () {
    if (pc === null)
      return;
    closePeerConnection();
    socket.emit('bye', socket.id);
    setState(idleState());
  }

  async function onSignal (description, route) {
    if (!description || typeof description.sdp !== 'string')
      return;
    if (description.type === 'offer' && role === 'viewer')
      callerId = route && typeof route.from === 'string' ? route.from : null;
    else if (!fromOurCaller(route))
      return;
    try {
      if (description.type === 'offer' && role === 'viewer') {
        const connection = newPeerConnection();
        setState('calling');
        await connection.setRemoteDescription({ type: 'offer', sdp: description.sdp });
        await flushCandidates();
        const answer = await connection.createAnswer();
        await connection.setLocalDescription(answer);
        send('signal', { type: answer.type, sdp: answer.sdp });
      } else if (description.type === 'answer' && role === 'caller' && pc !== null) {
        await pc.setRemoteDescription({ type: 'answer', sdp: description.sdp });
        await flushCandidates();
      }
    } catch (e) {
      console.error('peercam: signal failed', e);
      closePeerConnection();
      setState('error', e.message);
    }
  }

  async function onIce (candidate, route) {
    if (!candidate || !candidate.candidate || pc === null || !fromOurCaller(route))
      return;
    const init = {
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? null,
      sdpMLineIndex: candidate.sdpMLineIndex ?? 0,
    };
    if (!pc.remoteDescription) {
      pendingCandidates.push(init);
      return;
    }
    try {
      await pc.addIceCandidate(init);
    } catch (e) {
      console.warn('peercam: candidate refused', e);
    }
  }

  function onBye (id) {
    // Another viewer leaving the room is none of ours.
    if (role === 'viewer' && callerId !== null && typeof id === 'string' && id !== callerId)
      return;
    callerId = null;
    peerPresent = false;
    closePeerConnection();
    setState('waiting');
  }

  // Lost connections come back with a growing delay; a refusal does not.
  function scheduleReconnect () {
    if (leaving || retryTimer !== null)
      return;
    retryTimer = setTimeout(() => { retryTimer = null; connect(); }, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  }

  function connect () {
    socket = new window.PeercamSocket(server.foreign ? server.origin : '', {
      transport: params.get('transport') === 'polling' ? 'polling' : 'websocket',
      token: params.get('token') || fragment.get('token'),
    });
    socket.on('connect', () => {
      retryMs = 1000;
      setState('waiting');
      // Only Peercam's server offers addressed rooms; other relays get the
      // demo's message exactly.
      if (socket.addressed)
        socket.emit('create or join', room, { addressed: true });
      else
        socket.emit('create or join', room);
      // The reference relay answers only a room's creator: silence means
      // someone else is in the room (as the app assumes, after 1.5 s).
      clearTimeout(joinTimer);
      joinTimer = setTimeout(() => {
        joinTimer = null;
        peerPresent = true;
        if (!pc)
          setState(idleState());
      }, 1500);
    });
    const answered = () => { clearTimeout(joinTimer); joinTimer = null; };
    socket.on('create', () => { answered(); peerPresent = false; setState(pc ? window.peercamState : idleState()); });
    socket.on('join', () => { answered(); peerPresent = true; setState(pc ? window.peercamState : idleState()); });
    socket.on('call', () => { answered(); peerPresent = true; if (!pc) setState(idleState()); });
    socket.on('full', () => { answered(); setState('full'); });
    socket.on('signal', onSignal);
    socket.on('ice', onIce);
    socket.on('bye', onBye);
    socket.on('error', (message) => setState('error', String(message)));
    socket.on('connect_error', (reason, refused) => {
      setState('error', String(reason));
      if (!refused)
        scheduleReconnect();
    });
    socket.on('disconnect', () => {
      answered();
      closePeerConnection();
      peerPresent = false;
      setState('disconnected');
      scheduleReconnect();
    });
    setState('connecting');
    socket.connect();
  }

  if (role === 'caller') {
    buttons.start.addEventListener('click', getLocalVideo);
    buttons.call.addEventListener('click', () => call().catch((e) => setState('error', e.message)));
    buttons.hangup.addEventListener('click', hangUp);
  }
  window.addEventListener('pagehide', () => {
    leaving = true;
    clearTimeout(retryTimer);
    if (socket)
      socket.close();
  });

  // For tests and the console.
  window.peercam = { getLocalVideo, call, hangUp, get peerPresent () { return peerPresent; } };
  document.getElementById('roomName').textContent = room;
  const serverName = document.getElementById('serverName');
  if (server === null) {
    serverName.textContent = params.get('server');
    setState('error', 'the server address is not an http(s) URL');
    return;
  }
  serverName.textContent = server.foreign ? server.origin : `${server.origin} (this page’s own)`;

  if (!serverConfirmed) {
    // Nothing goes to that server, and no camera starts, until the user says so.
    const panel = document.getElementById('serverConfirm');
    document.getElementById('confirmServer').textContent = server.origin;
    document.getElementById('confirmPage').textContent = window.location.origin;
    panel.hidden = false;
    document.getElementById('serverConfirmButton').addEventListener('click', () => {
      serverConfirmed = true;
      panel.hidden = true;
      connect();
    }, { once: true });
    setState('confirm-server');
    return;
  }
  connect();
})();
