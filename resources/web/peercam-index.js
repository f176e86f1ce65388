// peercam-index.js — the landing page: ?room=NAME pre-fills the room.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

(function () {
  const room = new URLSearchParams(window.location.search).get('room');
  if (room)
    document.getElementById('room').value = room;
})();
