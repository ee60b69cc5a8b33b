/*
 * verify.js - progressive enhancement of the consumer page: fetch the lot's
 * bundle and check it again in the browser with WebCrypto, so the verdict
 * does not rest on the server's word alone.  Checked here, as trace-agent
 * verify does offline (docs/PROTOCOL.md sections 5, 9 and 10):
 *   - the checkpoint's C2SP signed-note signature under the log's key;
 *   - every key entry: RFC 6962 inclusion proof, Ed25519 signature over the
 *     DSSE PAE by the root or an admin enrolled before it; an org entry
 *     (SPEC 8 "Organisations") by the root only;
 *   - every event: inclusion proof, signature by its enrolled, unrevoked
 *     signer, chain, seq and prev link;
 *   - the bundle's newest event is the one the page was rendered from.
 * Without JavaScript (or without Ed25519 in WebCrypto) the page is complete
 * and says nothing about this device.  Served as /static/verify.js under a
 * CSP with script-src 'self'; it writes text only (textContent), never HTML.
 */
(function () {
	'use strict';

	var out = document.getElementById('device-check');
	if (!out || !window.crypto || !window.crypto.subtle || !window.fetch ||
	    !window.TextEncoder || !window.Promise)
		return;
	var subtle = window.crypto.subtle;
	var utf8 = new TextEncoder();
	var EVENT_TYPE = 'application/vnd.trace.event.v1+json';
	var KEY_TYPE = 'application/vnd.trace.key.v1+json';

	function Failure(message) {
		this.message = message;
	}

	function fail(message) {
		throw new Failure(message);
	}

	function bytes(b64) {
		var s = String(b64).replace(/-/g, '+').replace(/_/g, '/');
		var bin, a, i;

		while (s.length % 4)
			s += '=';
		try {
			bin = atob(s);
		} catch (e) {
			fail('bad base64');
		}
		a = new Uint8Array(bin.length);
		for (i = 0; i < bin.length; i++)
			a[i] = bin.charCodeAt(i);
		return a;
	}

	function hex(a) {
		var s = '', i;

		for (i = 0; i < a.length; i++)
			s += (a[i] < 16 ? '0' : '') + a[i].toString(16);
		return s;
	}

	function concat() {
		var n = 0, i, a, at = 0;

		for (i = 0; i < arguments.length; i++)
			n += arguments[i].length;
		a = new Uint8Array(n);
		for (i = 0; i < arguments.length; i++) {
			a.set(arguments[i], at);
			at += arguments[i].length;
		}
		return a;
	}

	function equal(a, b) {
		var i;

		if (a.length !== b.length)
			return false;
		for (i = 0; i < a.length; i++)
			if (a[i] !== b[i])
				return false;
		return true;
	}

	function sha256(data) {
		return subtle.digest('SHA-256', data).then(function (d) {
			return new Uint8Array(d);
		});
	}

	/* DSSE pre-authentication encoding. */
	function pae(type, payload) {
		var t = utf8.encode(type);

		return concat(utf8.encode('DSSEv1 ' + t.length + ' '), t,
		    utf8.encode(' ' + payload.length + ' '), payload);
	}

	var keyCache = {};

	function ed25519(publicKey, signature, message) {
		var id = hex(publicKey);
		var key = keyCache[id] || (keyCache[id] = subtle.importKey('raw',
		    publicKey, { name: 'Ed25519' }, false, ['verify']));

		return key.then(function (k) {
			return subtle.verify({ name: 'Ed25519' }, k, signature, message);
		});
	}

	/* RFC 9162 2.1.3.2: verify an inclusion proof (numbers, not 32-bit ops). */
	function inclusion(index, size, leaf, proof, root) {
		var fn = index, sn = size - 1, r = Promise.resolve(leaf), one = new Uint8Array([1]);

		if (!(index >= 0 && index < size))
			return Promise.resolve(false);
		proof.forEach(function (p) {
			r = r.then(function (h) {
				if (h === null || sn === 0)
					return null;
				if (fn % 2 === 1 || fn === sn) {
					if (fn % 2 === 0)
						while (fn % 2 === 0 && fn !== 0) {
							fn = Math.floor(fn / 2);
							sn = Math.floor(sn / 2);
						}
					fn = Math.floor(fn / 2);
					sn = Math.floor(sn / 2);
					return sha256(concat(one, p, h));
				}
				fn = Math.floor(fn / 2);
				sn = Math.floor(sn / 2);
				return sha256(concat(one, h, p));
			});
		});
		return r.then(function (h) {
			return h !== null && sn === 0 && equal(h, root);
		});
	}

	/* C2SP signed note + tlog-checkpoint body, under vkey "name+hash+key". */
	function openCheckpoint(note, vkey) {
		/* The name has no '+'; the base64 key may. */
		var m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(String(vkey)),
		    parts, name, key, split, body, lines;

		if (!m)
			fail('the log key is malformed');
		parts = m.slice(1);
		name = parts[0];
		key = bytes(parts[2]);
		if (key.length !== 33 || key[0] !== 1)
			fail('the log key is not Ed25519');
		split = note.indexOf('\n\n');
		if (split < 0)
			fail('the checkpoint has no signatures');
		body = note.slice(0, split + 1);
		lines = body.split('\n');
		if (lines.length < 4 || lines[0] !== name)
			fail('the checkpoint is not from this log');
		return sha256(concat(utf8.encode(name + '\n'), key)).then(function (h) {
			var want = hex(h.slice(0, 4)), sigs, i, raw;

			if (want !== parts[1])
				fail('the log key hash is wrong');
			sigs = note.slice(split + 2).split('\n');
			for (i = 0; i < sigs.length; i++) {
				if (sigs[i].indexOf('\u2014 ' + name + ' ') !== 0)
					continue;
				raw = bytes(sigs[i].slice(name.length + 3));
				if (raw.length === 68 && hex(raw.slice(0, 4)) === want)
					return ed25519(key.slice(1), raw.slice(4),
					    utf8.encode(body)).then(function (ok) {
						if (!ok)
							fail('the checkpoint signature is invalid');
						if (!/^(0|[1-9][0-9]*)$/.test(lines[1]))
							fail('the checkpoint size is malformed');
						return { size: Number(lines[1]), root: bytes(lines[2]) };
					});
			}
			fail('the checkpoint is not signed by the log key');
		});
	}

	function readItem(item, type, what) {
		var env = item && item.envelope, payload, doc;

		if (!env || env.payloadType !== type || !Array.isArray(env.signatures) ||
		    typeof item.logIndex !== 'number' || !Array.isArray(item.proof))
			fail(what + ' is malformed');
		payload = bytes(env.payload);
		try {
			doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
		} catch (e) {
			fail(what + ': the payload is not JSON');
		}
		return { env: env, payload: payload, doc: doc, pae: pae(type, payload),
		    index: item.logIndex, proof: item.proof.map(bytes) };
	}

	/* Any of the envelope's signatures verifies under publicKey. */
	function signedBy(it, publicKey) {
		var tries = it.env.signatures.map(function (s) {
			var sig = bytes(s.sig);

			return sig.length === 64 ? ed25519(publicKey, sig, it.pae) :
			    Promise.resolve(false);
		});

		return Promise.all(tries).then(function (r) {
			return r.indexOf(true) >= 0;
		});
	}

	function proven(it, cp, what) {
		return sha256(concat(new Uint8Array([0]), it.pae)).then(function (leaf) {
			return inclusion(it.index, cp.size, leaf, it.proof, cp.root);
		}).then(function (ok) {
			if (!ok)
				fail(what + ': the inclusion proof does not verify');
		});
	}

	/* A lot as gs1_link_format writes it: RFC 3986 unreserved kept. */
	function linkEncode(s) {
		return Array.prototype.map.call(utf8.encode(s), function (c) {
			var ch = String.fromCharCode(c);

			return /[A-Za-z0-9._~-]/.test(ch) ? ch :
			    '%' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
		}).join('');
	}

	function keyId(publicKey) {
		return sha256(publicKey).then(function (h) {
			return hex(h.slice(0, 16));
		});
	}

	function verify(bundle, log, rootPublic, expect) {
		var keys = {}, checked = { signatures: 0, proofs: 0 }, cp, step, prev = null,
		    lastIndex = -1, lastId = '', rootKeyId = '';

		if (!bundle || typeof bundle.checkpoint !== 'string' ||
		    !Array.isArray(bundle.events) || !Array.isArray(bundle.keys))
			fail('the bundle is malformed');
		if (bundle.chain !== expect.chain)
			fail('the bundle is for another lot');
		step = openCheckpoint(bundle.checkpoint, log.vkey).then(function (c) {
			cp = c;
			return keyId(rootPublic);
		}).then(function (rootId) {
			rootKeyId = rootId;
			keys[rootId] = { pub: rootPublic, role: 'admin', revokedAt: Infinity };
		});
		bundle.keys.forEach(function (item, i) {
			step = step.then(function () {
				var what = 'key entry ' + i, it = readItem(item, KEY_TYPE, what),
				    signer = keys[it.doc.signer];

				if (!signer || signer.role !== 'admin' || signer.revokedAt < it.index)
					fail(what + ': not signed by an admin');
				if (it.doc.op === 'org' && it.doc.signer !== rootKeyId)
					fail(what + ': an org entry not signed by the root');
				return signedBy(it, signer.pub).then(function (ok) {
					if (!ok)
						fail(what + ': bad signature');
					checked.signatures++;
					return proven(it, cp, what);
				}).then(function () {
					checked.proofs++;
					if (it.doc.op === 'org')
						return null;
					if (it.doc.op === 'revoke') {
						if (keys[it.doc.keyid])
							keys[it.doc.keyid].revokedAt = it.index;
						return null;
					}
					var pub = bytes(it.doc.public);

					return keyId(pub).then(function (id) {
						if (id !== it.doc.keyid || pub.length !== 32)
							fail(what + ': key id does not match its key');
						keys[id] = { pub: pub, role: it.doc.role, revokedAt: Infinity };
					});
				});
			});
		});
		bundle.events.forEach(function (item, i) {
			step = step.then(function () {
				var what = 'event ' + i, it = readItem(item, EVENT_TYPE, what),
				    doc = it.doc, signer = keys[doc.signer];

				if (doc.seq !== i)
					fail(what + ': seq is ' + doc.seq);
				if (!doc.chain || '01/' + doc.chain.gtin + '/10/' +
				    linkEncode(String(doc.chain.lot)) !== expect.chain)
					fail(what + ': belongs to another lot');
				if (doc.prev !== prev)
					fail(what + ': the link to the previous event is broken');
				if (it.index <= lastIndex)
					fail(what + ': log order');
				if (!signer || signer.revokedAt < it.index)
					fail(what + ': signer unknown or revoked');
				lastIndex = it.index;
				return signedBy(it, signer.pub).then(function (ok) {
					if (!ok)
						fail(what + ': bad signature');
					checked.signatures++;
					return proven(it, cp, what);
				}).then(function () {
					checked.proofs++;
					return sha256(it.pae);
				}).then(function (id) {
					prev = lastId = hex(id);
				});
			});
		});
		return step.then(function () {
			if (bundle.events.length < expect.count || lastId === '' ||
			    (bundle.events.length === expect.count && lastId !== expect.head))
				fail('the bundle does not hold the events shown on this page');
			return checked;
		});
	}

	function show(state, text) {
		out.className = 'device ' + state;
		out.textContent = text;
	}

	/* This device could not confirm the server's verdict: the page must not
	 * keep saying "genuine" in green. */
	function distrust() {
		var card = document.getElementById('verdict'), mark, title;

		if (!card || !out.dataset.msgVerdict)
			return;
		card.className = 'card verdict bad';
		mark = card.querySelector('.mark');
		title = card.querySelector('h1');
		if (mark)
			mark.textContent = '\u2717';
		if (title && title.lastChild)
			title.lastChild.textContent = out.dataset.msgVerdict;
	}

	function json(url) {
		return fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store',
		    credentials: 'omit' }).then(function (r) {
			if (!r.ok)
				fail('the server answered ' + r.status + ' for ' + url);
			return r.text();
		}).then(function (text) {
			try {
				return JSON.parse(text);
			} catch (e) {
				fail('not JSON: ' + url);
			}
		});
	}

	function run() {
		var d = out.dataset, rootPublic;

		show('', d.msgChecking);
		out.hidden = false;
		try {
			rootPublic = bytes(d.root);
		} catch (e) {
			show('bad', d.msgFail + ': ' + e.message);
			return;
		}
		subtle.importKey('raw', rootPublic, { name: 'Ed25519' }, false, ['verify'])
		    .then(function () {
			return Promise.all([json(d.bundle), json(d.log)]);
		}, function () {
			show('', d.msgUnsupported);
			return null;
		}).then(function (r) {
			if (r === null)
				return;
			return verify(r[0], r[1], rootPublic, { chain: d.chain, head: d.head,
			    count: Number(d.count) }).then(function (checked) {
				show('ok', '\u2714 ' + d.msgOk + ' (' + checked.signatures +
				    ' \u00d7 Ed25519, ' + checked.proofs + ' \u00d7 RFC 6962)');
				out.setAttribute('data-state', 'verified');
			});
		}).catch(function (e) {
			show('bad', '\u2716 ' + d.msgFail + ': ' + (e && e.message ? e.message : String(e)));
			out.setAttribute('data-state', 'failed');
			distrust();
		});
	}

	run();
})();
