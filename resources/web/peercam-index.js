// peercam-index.js — the landing page: ?room=NAME pre-fills the room; an
// invite's fragment (#token=…) goes on to the page the user picks.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

(function () {
  const room = new URLSearchParams(window.location.search).get('room');
  if (room)
    document.getElementById('room').value = room;
  if (window.location.hash.length > 1) {
    for (const id of ['watchButton', 'sendButton']) {
      const button = document.getElementById(id);
      button.setAttribute('formaction', button.getAttribute('formaction') + window.location.hash);
    }
  }
})();
