/*
 * verify.js - the browser verifier: progressive enhancement of the consumer
 * page.  It fetches the lot's bundle and judges it again on this device,
 * with the same checks as bundle_verify() (libtrace/bundle.c) and the same
 * fold as fold_run() (libtrace/fold.c), so the page's recall, inspection
 * and customs status do not rest on the server's word (docs/PROTOCOL.md
 * section 5.4; SPEC 8 "One fold").  From the bundle alone it checks:
 *   - the checkpoint: C2SP signed note under the log's key, its origin;
 *   - key entries, in log order: RFC 6962 inclusion proof, exactly one
 *     Ed25519 signature over the DSSE PAE by the root or an admin enrolled
 *     earlier in the log, active (not revoked before it, inside its
 *     window), the entry well formed with a public key that is canonical,
 *     not of small order and without a torsion component; enroll needs a
 *     new key id, revoke an enrolled, unrevoked key; a revocation applies
 *     to statements logged after it; the org rules (SPEC 8): an org entry
 *     by the root only, an enrollment into a registered org (as it stood
 *     then) in its roles and prefixes, an admin enrolling only into its
 *     own org, within its prefixes and window and never an admin, and
 *     revoking only its org's keys; entries before the first org entry
 *     judged as round-1 data;
 *   - events, in bundle order: inclusion proof, chain, seq = 0, 1, ...,
 *     prev = the id of the event before, log indexes increasing, exactly
 *     one signature by the signer's enrolled key, which at the event's log
 *     index is not revoked, is inside its window at the event's time, has
 *     a role allowed for the type and GTIN prefixes covering the GTIN,
 *     and a product.registered only by the org whose prefixes cover it;
 *   - the fold of the events that passed: correction and recall.closed
 *     target rules (who may close which recall, a recall closes once, a
 *     correction names an earlier event it may withdraw and is its
 *     signer's or a regulator's), recall status per serial (ranges, open,
 *     closed), inspection status (a fail in force outweighs any pass),
 *     customs status, withdrawn and ignored statements; every statement is
 *     judged by the round-1 rules too, as bundle_verify() does;
 *   - the bundle holds the events the page was rendered from;
 *   - with a witness policy (the server's, from /api/v1/log): the
 *     checkpoint's cosignatures (C2SP cosignature/v1) meet its quorum and
 *     the newest is at most an hour old (witnessQuorum, which the
 *     standalone verifier calls too).
 * Ed25519 is WebCrypto's, after the checks libtrace's ed25519_verify()
 * makes first (S < L, canonical encodings of A and R, neither of small
 * order), so the same signatures verify here as in C: the cofactorless
 * equation.  Where
 * WebCrypto lacks Ed25519 (the in-app browsers of WeChat and Alipay, older
 * Chromium), the same equation is computed here with BigInt from RFC 8032
 * 5.1.7 (ed25519Js, SHA-512 from WebCrypto).
 *
 * Memory (SPEC 10): after a bundle verifies, its checkpoint is held
 * against the largest one this browser verified for the log before
 * (localStorage), with a consistency proof from the server; a fork or a
 * rollback fails the page, visibly, and both signed notes are kept.
 *
 * The page then shows the recall, inspection and customs status computed
 * here, and says so visibly when they differ from what the server
 * rendered (which stays for readers without JavaScript).  TraceVerify
 * (verifyBundle, summary) is what tests/browser runs over the shared
 * corpus of fixture bundles (tests/unit/test_corpus.c) to compare with the
 * C verdict byte for byte.  Served as /static/verify.js under a CSP with
 * script-src 'self'; it writes text only (textContent), never HTML.
 */
(function () {
	'use strict';

	if (!window.crypto || !window.crypto.subtle || !window.TextEncoder ||
	    !window.Promise || typeof BigInt !== 'function')
		return;
	var subtle = window.crypto.subtle;
	var utf8 = new TextEncoder();
	var EVENT_TYPE = 'application/vnd.trace.event.v1+json';
	var KEY_TYPE = 'application/vnd.trace.key.v1+json';
	var PROOF_MAX = 64;
	var NONE = -1;

	/* libtrace/event.c: the roles that may sign each type. */
	var ROLES = {
		'product.registered': ['brand', 'importer'],
		'inspection.sampled': ['inspector'],
		'inspection.completed': ['inspector'],
		'shipment.departed': ['logistics'],
		'shipment.arrived': ['logistics'],
		'customs.declared': ['importer', 'customs'],
		'customs.released': ['customs'],
		'warehouse.received': ['warehouse'],
		'warehouse.dispatched': ['warehouse'],
		'recall.issued': ['importer', 'regulator'],
		'recall.closed': ['importer', 'regulator'],
		'correction': ['brand', 'inspector', 'logistics', 'customs',
		    'warehouse', 'importer', 'regulator'],
		'serials.issued': ['brand', 'importer'],
		'codes.issued': ['brand', 'importer'],
	};
	var ALL_ROLES = ['brand', 'inspector', 'logistics', 'customs',
	    'warehouse', 'importer', 'regulator', 'admin'];

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

	/* ---- Ed25519 as libtrace/crypto.c has it --------------------------- */

	var P = (1n << 255n) - 19n;
	var L = (1n << 252n) + 27742317777372353535851937790883648493n;
	var D = mod(-121665n * inverse(121666n));
	var SQRT_M1 = power(2n, (P - 1n) / 4n);

	function mod(a) {
		var r = a % P;

		return r < 0n ? r + P : r;
	}

	function power(b, e) {
		var r = 1n;

		b = mod(b);
		while (e > 0n) {
			if (e & 1n)
				r = r * b % P;
			b = b * b % P;
			e >>= 1n;
		}
		return r;
	}

	function inverse(a) {
		return power(a, P - 2n);
	}

	function little(a) {
		var r = 0n, i;

		for (i = a.length - 1; i >= 0; i--)
			r = (r << 8n) | BigInt(a[i]);
		return r;
	}

	/* RFC 8032 5.1.7: y < p (the sign bit aside). */
	function canonicalPoint(a) {
		return (little(a) & ((1n << 255n) - 1n)) < P;
	}

	/* RFC 8032 5.1.3, or null. */
	function decodePoint(a) {
		var y = little(a) & ((1n << 255n) - 1n), sign = a[31] >> 7, u, v, x;

		if (y >= P)
			return null;
		u = mod(y * y - 1n);
		v = mod(D * y * y + 1n);
		x = mod(u * power(v, 3n) * power(u * power(v, 7n), (P - 5n) / 8n));
		if (mod(v * x * x) !== u) {
			if (mod(v * x * x) !== mod(-u))
				return null;
			x = mod(x * SQRT_M1);
		}
		if (x === 0n && sign === 1)
			return null;
		if (Number(x & 1n) !== sign)
			x = P - x;
		return [x, y, 1n, mod(x * y)];
	}

	/* Extended coordinates (RFC 8032 5.1.4). */
	function add(p, q) {
		var a = mod((p[1] - p[0]) * (q[1] - q[0])),
		    b = mod((p[1] + p[0]) * (q[1] + q[0])),
		    c = mod(2n * D * p[3] * q[3]), d = mod(2n * p[2] * q[2]),
		    e = b - a, f = d - c, g = d + c, h = b + a;

		return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
	}

	function multiply(k, p) {
		var r = [0n, 1n, 1n, 0n];

		while (k > 0n) {
			if (k & 1n)
				r = add(r, p);
			p = add(p, p);
			k >>= 1n;
		}
		return r;
	}

	function identity(p) {
		return p[0] === 0n && mod(p[1] - p[2]) === 0n;
	}

	/* ed25519_public_key_check(): canonical, not of small order, no
	 * torsion component ([L]A = O). */
	function strongKey(a) {
		var p = a.length === 32 ? decodePoint(a) : null;

		return p !== null && !identity(multiply(8n, p)) &&
		    identity(multiply(L, p));
	}

	/* Projective points are equal when X1/Z1 = X2/Z2 and Y1/Z1 = Y2/Z2. */
	function samePoint(p, q) {
		return mod(p[0] * q[2] - q[0] * p[2]) === 0n &&
		    mod(p[1] * q[2] - q[1] * p[2]) === 0n;
	}

	/* The base point (RFC 8032 5.1): y = 4/5, x even. */
	var BASE = (function () {
		var y = mod(4n * inverse(5n)), a = new Uint8Array(32), i;

		for (i = 0; i < 32; i++, y >>= 8n)
			a[i] = Number(y & 255n);
		return decodePoint(a);
	})();

	/*
	 * RFC 8032 5.1.7 without WebCrypto's Ed25519, for the checks made in
	 * ed25519() first: decode A and R, k = SHA-512(R || A || M) mod L,
	 * and the cofactorless equation [S]B = R + [k]A, as libtrace does.
	 * Variable time, which is fine for public data.
	 */
	function ed25519Js(publicKey, signature, message) {
		var A = decodePoint(publicKey), R = decodePoint(signature.subarray(0, 32)),
		    S = little(signature.subarray(32));

		if (A === null || R === null || S >= L)
			return Promise.resolve(false);
		return subtle.digest('SHA-512', concat(signature.subarray(0, 32),
		    publicKey, message)).then(function (h) {
			var k = little(new Uint8Array(h)) % L;

			return samePoint(multiply(S, BASE), add(R, multiply(k, A)));
		});
	}

	var keyCache = {}, webCryptoEd25519 = null;

	/* Whether WebCrypto verifies Ed25519 here (asked once). */
	function haveWebCryptoEd25519() {
		if (webCryptoEd25519 === null)
			webCryptoEd25519 = Promise.resolve().then(function () {
				return subtle.importKey('raw', new Uint8Array(32),
				    { name: 'Ed25519' }, false, ['verify']);
			}).then(function () {
				return true;
			}, function () {
				return false;
			});
		return webCryptoEd25519;
	}

	/*
	 * The y of the 8 points of small order (libtrace crypto.c
	 * small_order_y): 0 (order 4), 1 (the identity), p - 1 (order 2) and
	 * the two y of order 8, which add up to p.
	 */
	var SMALL_ORDER_Y = (function () {
		var y8 = little(fromHex('26e8958fc2b227b045c3f489f2ef98f0' +
		    'd5dfac05d3c63339b13802886d53fc05'));

		return [0n, 1n, P - 1n, y8, P - y8];
	})();

	/* Whether a encodes a point of small order, whatever its sign bit. */
	function smallOrder(a) {
		return SMALL_ORDER_Y.indexOf(little(a) & ((1n << 255n) - 1n)) >= 0;
	}

	/* ed25519_verify(): S < L, canonical A and R, neither of small
	 * order, then the cofactorless equation (WebCrypto's, or ed25519Js
	 * without it). */
	function ed25519Precheck(publicKey, signature) {
		var r = signature.subarray(0, 32);

		return publicKey.length === 32 && signature.length === 64 &&
		    little(signature.subarray(32)) < L && canonicalPoint(publicKey) &&
		    canonicalPoint(r) && !smallOrder(publicKey) && !smallOrder(r);
	}

	function ed25519(publicKey, signature, message) {
		var id = hex(publicKey);

		if (!ed25519Precheck(publicKey, signature))
			return Promise.resolve(false);
		return haveWebCryptoEd25519().then(function (yes) {
			if (!yes)
				return ed25519Js(publicKey, signature, message);
			if (!keyCache[id])
				keyCache[id] = subtle.importKey('raw', publicKey,
				    { name: 'Ed25519' }, false, ['verify']);
			return keyCache[id].then(function (k) {
				return subtle.verify({ name: 'Ed25519' }, k, signature, message);
			});
		}).catch(function () {
			return false;
		});
	}

	/* ---- the log ------------------------------------------------------- */

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

	function half(n) {
		return Math.floor(n / 2);
	}

	/* RFC 9162 2.1.4.2: verify a consistency proof from size1 to size2. */
	function consistency(size1, size2, root1, root2, proof) {
		var one = new Uint8Array([1]), fn, sn, fr, sr, n = size1, chain;

		/* A proof from the empty tree proves nothing: refused, as in C. */
		if (size1 === size2)
			return Promise.resolve(size1 > 0 && proof.length === 0 &&
			    equal(root1, root2));
		if (!(size1 > 0 && size1 < size2) || proof.length === 0 ||
		    proof.length > PROOF_MAX || proof.some(function (p) {
			return p.length !== 32;
		    }))
			return Promise.resolve(false);
		while (n % 2 === 0)
			n = half(n);
		if (n === 1)
			proof = [root1].concat(proof);
		fn = size1 - 1;
		sn = size2 - 1;
		while (fn % 2 === 1) {
			fn = half(fn);
			sn = half(sn);
		}
		fr = sr = proof[0];
		chain = Promise.resolve(true);
		proof.slice(1).forEach(function (c) {
			chain = chain.then(function (ok) {
				if (!ok || sn === 0)
					return false;
				if (fn % 2 === 1 || fn === sn)
					return Promise.all([sha256(concat(one, c, fr)),
					    sha256(concat(one, c, sr))]).then(function (h) {
						fr = h[0];
						sr = h[1];
						while (fn % 2 === 0 && fn !== 0) {
							fn = half(fn);
							sn = half(sn);
						}
						fn = half(fn);
						sn = half(sn);
						return true;
					});
				return sha256(concat(one, sr, c)).then(function (h) {
					sr = h;
					fn = half(fn);
					sn = half(sn);
					return true;
				});
			});
		});
		return chain.then(function (ok) {
			return ok && sn === 0 && equal(fr, root1) && equal(sr, root2);
		});
	}

	/* C2SP signed note + tlog-checkpoint body, under vkey "name+hash+key":
	 * {origin, size, root}, or a Failure. */
	function openCheckpoint(note, vkey) {
		/* The name has no '+'; the base64 key may. */
		var m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(String(vkey)),
		    parts, name, key, split, body, lines;

		if (!m)
			fail('the log key is malformed');
		if (typeof note !== 'string')
			fail('the bundle has no checkpoint');
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
		if (lines.length < 4)
			fail('the checkpoint is malformed');
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
						return { origin: lines[0], name: name,
						    size: Number(lines[1]), root: bytes(lines[2]) };
					});
			}
			fail('the checkpoint is not signed by the log key');
		});
	}

	/* ---- statements ---------------------------------------------------- */

	function isInt(v) {
		return typeof v === 'number' && Number.isSafeInteger(v);
	}

	function isKeyId(v) {
		return typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);
	}

	function isId(v) {
		return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
	}

	/* RFC 3339 to seconds since the epoch, or null. */
	function seconds(v) {
		var t;

		if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v))
			return null;
		t = Date.parse(v);
		return isNaN(t) ? null : Math.floor(t / 1000);
	}

	/* bundle.c item_read(): {readable, problem, env, index, proof, ...}. */
	function readItem(item) {
		var it = { readable: false, index: -1 }, env, sigs, i;

		if (!item || typeof item !== 'object' || Array.isArray(item)) {
			it.problem = 'not a JSON object';
			return it;
		}
		if (!isInt(item.logIndex) || item.logIndex < 0) {
			it.problem = 'no logIndex (a non-negative integer)';
			return it;
		}
		it.index = item.logIndex;
		if (!Array.isArray(item.proof) || item.proof.length > PROOF_MAX) {
			it.problem = 'no inclusion proof (an array of at most 64)';
			return it;
		}
		try {
			it.proof = item.proof.map(function (h) {
				var b = typeof h === 'string' ? bytes(h) : null;

				if (b === null || b.length !== 32)
					fail('bad proof element');
				return b;
			});
		} catch (e) {
			it.problem = 'an inclusion proof element is not base64 of a 32-byte hash';
			return it;
		}
		env = item.envelope;
		sigs = env && env.signatures;
		if (!env || typeof env.payloadType !== 'string' ||
		    typeof env.payload !== 'string' || !Array.isArray(sigs) ||
		    sigs.length < 1 || sigs.length > 4) {
			it.problem = 'envelope: malformed';
			return it;
		}
		try {
			it.payload = bytes(env.payload);
			it.sigs = [];
			for (i = 0; i < sigs.length; i++) {
				if (!sigs[i] || typeof sigs[i].sig !== 'string')
					fail('bad signature');
				it.sigs.push(bytes(sigs[i].sig));
			}
		} catch (e) {
			it.problem = 'envelope: malformed';
			return it;
		}
		it.type = env.payloadType;
		it.pae = pae(it.type, it.payload);
		it.readable = true;
		return it;
	}

	function parsePayload(it) {
		var doc;

		try {
			doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(it.payload));
		} catch (e) {
			return null;
		}
		return doc && typeof doc === 'object' && !Array.isArray(doc) ? doc : null;
	}

	/* bundleindex.c statement_parse(): an index statement's payload
	 * (docs/PROTOCOL.md 9.10.2), exactly {v, type, time (UTC), size >= 1,
	 * root, entries}, an optional first (0 <= first <= size) and optional
	 * maxAge and grace (both or neither, seconds >= 0); the parsed object
	 * with when (unix seconds), or null. */
	function indexPayload(it) {
		var st = parsePayload(it), names, when;

		if (!st)
			return null;
		names = Object.keys(st).filter(function (k) {
			return k !== 'first' && k !== 'maxAge' && k !== 'grace';
		}).sort().join();
		if ((st.maxAge === undefined) !== (st.grace === undefined) ||
		    (st.maxAge !== undefined && (!isInt(st.maxAge) || st.maxAge < 0 ||
		    !isInt(st.grace) || st.grace < 0)))
			return null;
		when = seconds(st.time);
		if (names !== 'entries,root,size,time,type,v' || st.v !== 1 ||
		    st.type !== 'index' || !isInt(st.size) || st.size < 1 ||
		    typeof st.root !== 'string' || !/^[0-9a-f]{64}$/.test(st.root) ||
		    !isInt(st.entries) || st.entries < 0 || when === null ||
		    !/Z$/.test(st.time) || (st.first !== undefined &&
		    (!isInt(st.first) || st.first < 0 || st.first > st.size)))
			return null;
		st.when = when;
		return st;
	}

	/* keyentry.c key_entry_parse(), as far as a verifier relies on it. */
	/* keyentry.c's GTIN prefixes: absent, or 1-32 of 1-13 digits. */
	function parsePrefixes(list) {
		if (list === undefined)
			return [];
		if (!Array.isArray(list) || list.length < 1 || list.length > 32 ||
		    !list.every(function (p) {
			return typeof p === 'string' && /^[0-9]{1,13}$/.test(p);
		    }))
			return null;
		return list;
	}

	/* SPEC 8 "Organisations": {"v", "op": "org", "org", "name": {"zh",
	 * "en"}, "roles", "gtinPrefixes"?, "time", "signer"}. */
	function parseOrgEntry(d) {
		var prefixes = parsePrefixes(d.gtinPrefixes), seen = {};

		if (typeof d.org !== 'string' || !/^[a-z0-9.-]{1,64}$/.test(d.org) ||
		    !d.name || typeof d.name !== 'object' || typeof d.name.zh !== 'string' ||
		    typeof d.name.en !== 'string' || !Array.isArray(d.roles) ||
		    d.roles.length < 1 || prefixes === null || !d.roles.every(function (r) {
			var fresh = ALL_ROLES.indexOf(r) >= 0 && !seen.hasOwnProperty(r);

			seen[r] = true;
			return fresh;
		    }))
			return null;
		return { op: 'org', signer: d.signer, time: seconds(d.time), id: d.org,
		    roles: d.roles, prefixes: prefixes };
	}

	function parseKeyEntry(it) {
		var d = it.type === KEY_TYPE ? parsePayload(it) : null, e, pub;

		if (d !== null && d.v === 1 && d.op === 'org' && isKeyId(d.signer) &&
		    seconds(d.time) !== null)
			return Promise.resolve(parseOrgEntry(d));
		if (d === null || d.v !== 1 || !isKeyId(d.keyid) ||
		    !isKeyId(d.signer) || seconds(d.time) === null)
			return Promise.resolve(null);
		e = { op: d.op, keyid: d.keyid, signer: d.signer, time: seconds(d.time) };
		if (d.op === 'revoke') {
			/* SPEC 8: compromisedAt, at most 5 minutes after time. */
			e.compromisedAt = d.compromisedAt === undefined ? null :
			    seconds(d.compromisedAt);
			if (d.compromisedAt !== undefined && (e.compromisedAt === null ||
			    e.compromisedAt > e.time + 300))
				return Promise.resolve(null);
			return Promise.resolve(typeof d.reason === 'string' ? e : null);
		}
		if (d.op !== 'enroll' || typeof d.public !== 'string' ||
		    typeof d.name !== 'string' || typeof d.org !== 'string' ||
		    ALL_ROLES.indexOf(d.role) < 0)
			return Promise.resolve(null);
		e.role = d.role;
		e.org = d.org;
		e.notBefore = d.notBefore === undefined ? null : seconds(d.notBefore);
		e.notAfter = d.notAfter === undefined ? null : seconds(d.notAfter);
		if ((d.notBefore !== undefined && e.notBefore === null) ||
		    (d.notAfter !== undefined && e.notAfter === null) ||
		    (e.notBefore !== null && e.notAfter !== null &&
		    e.notBefore >= e.notAfter))
			return Promise.resolve(null);
		if ((e.prefixes = parsePrefixes(d.gtinPrefixes)) === null)
			return Promise.resolve(null);
		try {
			pub = bytes(d.public);
		} catch (x) {
			return Promise.resolve(null);
		}
		if (pub.length !== 32)
			return Promise.resolve(null);
		e.pub = pub;
		return sha256(pub).then(function (h) {
			return hex(h.slice(0, 16)) === e.keyid && strongKey(pub) ? e : null;
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

	/* event.c event_parse_stored(), as far as a verifier relies on it. */
	function parseEvent(it) {
		var d = it.type === EVENT_TYPE ? parsePayload(it) : null;

		if (d === null || d.v !== 1 || !ROLES.hasOwnProperty(d.type) ||
		    !d.chain || typeof d.chain !== 'object' ||
		    typeof d.chain.gtin !== 'string' || !/^[0-9]{14}$/.test(d.chain.gtin) ||
		    typeof d.chain.lot !== 'string' || !isInt(d.seq) || d.seq < 0 ||
		    (d.seq === 0) !== (d.type === 'product.registered') ||
		    !(d.prev === null || d.prev === undefined || isId(d.prev)) ||
		    seconds(d.time) === null || !isKeyId(d.signer) ||
		    !d.data || typeof d.data !== 'object' || Array.isArray(d.data))
			return null;
		return { type: d.type, gtin: d.chain.gtin, seq: d.seq,
		    chain: '01/' + d.chain.gtin + '/10/' + linkEncode(d.chain.lot),
		    prev: typeof d.prev === 'string' ? d.prev : null,
		    time: seconds(d.time), signer: d.signer, data: d.data,
		    round1Form: d.type === 'recall.closed' && d.data.recall === undefined };
	}

	/* ---- policy.c ------------------------------------------------------ */

	function inWindow(e, t) {
		return !(e.notBefore !== null && t < e.notBefore) &&
		    !(e.notAfter !== null && t >= e.notAfter);
	}

	function coversGtin(e, gtin) {
		return e.prefixes.length === 0 || prefixesCover(e.prefixes, gtin);
	}

	/* check_active(): a code or null. */
	function active(s, at, t) {
		if (!s.isRoot && s.enrolledAt >= at)
			return 'unknown_key';
		if (s.revokedAt !== null && s.revokedAt < at)
			return 'key_revoked';
		if (!inWindow(s.entry, t))
			return 'outside_window';
		return null;
	}

	function prefixesCover(prefixes, gtin) {
		return prefixes.some(function (p) {
			return gtin.slice(1, 1 + p.length) === p;
		});
	}

	/* org_covers_prefixes(): every prefix of e within one of org's. */
	function orgCoversPrefixes(org, e) {
		if (org.prefixes.length === 0)
			return true;
		return e.prefixes.length > 0 && e.prefixes.every(function (p) {
			return org.prefixes.some(function (q) {
				return p.slice(0, q.length) === q;
			});
		});
	}

	/* check_scope(): what an admin other than the root may enroll. */
	function checkScope(e, signer) {
		var a = signer.entry;

		if (e.role === 'admin')
			return 'root_only';
		if (!signer.orgKnown || a.org !== e.org)
			return 'wrong_org';
		if (a.prefixes.length > 0 && !orgCoversPrefixes({ prefixes: a.prefixes }, e))
			return 'prefix_outside_scope';
		if ((a.notBefore !== null && (e.notBefore === null || e.notBefore < a.notBefore)) ||
		    (a.notAfter !== null && (e.notAfter === null || e.notAfter > a.notAfter)))
			return 'window_outside_scope';
		return null;
	}

	/* policy_check_key_entry(): org is the registered org an enrollment
	 * names (null if none), round1 whether the entry predates the
	 * bundle's first org entry. */
	function checkKeyEntry(e, signer, target, org, round1, at) {
		var code = active(signer, at, e.time);

		if (code !== null)
			return code;
		if (signer.entry.role !== 'admin')
			return 'role_not_allowed';
		if (e.op === 'org')
			return signer.isRoot ? null : 'root_only';
		if (e.op === 'enroll') {
			if (target)
				return 'key_exists';
			if (org === null)
				return round1 ? null : 'unknown_org';
			if (org.roles.indexOf(e.role) < 0)
				return 'role_not_in_org';
			if (!orgCoversPrefixes(org, e))
				return 'prefix_outside_org';
			return signer.isRoot ? null : checkScope(e, signer);
		}
		if (!target || target.isRoot)
			return 'unknown_key';
		if (target.revokedAt !== null)
			return 'already_revoked';
		if (!signer.isRoot && !round1 && (!signer.orgKnown ||
		    signer.entry.org !== target.entry.org))
			return 'wrong_org';
		/* SPEC 8: not before the key's enrollment. */
		if (e.compromisedAt !== null && e.compromisedAt < target.entry.time)
			return 'bad_window';
		return null;
	}

	function checkEvent(ev, signer, at) {
		var code = active(signer, at, ev.time);

		if (code !== null)
			return code;
		if (signer.entry.role === 'admin' ||
		    ROLES[ev.type].indexOf(signer.entry.role) < 0)
			return 'role_not_allowed';
		if (!coversGtin(signer.entry, ev.gtin))
			return 'gtin_not_covered';
		/* SPEC 8 "Registration": only the org owning the prefix. */
		if ((ev.type === 'product.registered' || ev.type === 'serials.issued' ||
		    ev.type === 'codes.issued') && !signer.isRoot &&
		    !(!signer.orgKnown && at < signer.round1Until) &&
		    (!signer.orgKnown || signer.org.prefixes.length === 0 ||
		    !prefixesCover(signer.org.prefixes, ev.gtin)))
			return 'gtin_outside_org';
		return null;
	}

	/* policy_fold_org(): the org a fold compares. */
	function foldOrg(s) {
		return s.orgShadowed ? '' : s.entry.org;
	}

	/* ---- fold.c -------------------------------------------------------- */

	/* fold.c clears(): a close, a correction, a pass, a release, a
	 * serials.issued. */
	function clears(ev) {
		return ev.type === 'recall.closed' || ev.type === 'correction' ||
		    ev.type === 'customs.released' || ev.type === 'serials.issued' ||
		    (ev.type === 'inspection.completed' && ev.data.result === 'pass');
	}

	/*
	 * fold_run() over st[] ({ev, id, logIndex, role, org}, log order),
	 * round-1 rules for log indexes below round1Before (default: all).
	 */
	function fold(st, round1Before) {
		var r = { statements: [], recalls: [], inspections: [], inspection: 'none',
		    inspectionDeciding: NONE, customs: 'none', declaration: NONE,
		    release: NONE, registration: NONE, sampling: NONE, openRecalls: 0,
		    issued: [] },
		    ids = {}, recallOf = [], i, newestPass = NONE, newestFail = NONE;

		if (round1Before === undefined)
			round1Before = Infinity;
		st.forEach(function (s, k) {
			if (!ids.hasOwnProperty(s.id))
				ids[s.id] = k;
			recallOf.push(NONE);
			r.statements.push({ id: s.id, type: s.ev.type, data: s.ev.data, seq: s.ev.seq,
			    logIndex: s.logIndex, withdrawnBy: NONE, target: NONE,
			    problem: 'none', round1: false, ignored: false,
			    pending: !!s.pending, compromised: !!s.compromised });
		});
		function find(id, before) {
			var j = typeof id === 'string' && ids.hasOwnProperty(id) ? ids[id] : NONE;

			return j !== NONE && j < before ? j : NONE;
		}
		function judgeClose(k, round1Allowed) {
			var s = r.statements[k], j, rc, regulator = st[k].role === 'regulator';

			if (st[k].ev.round1Form) {
				if (!round1Allowed) {
					s.problem = 'no_target';
					return;
				}
				s.round1 = true;
				r.recalls.forEach(function (x) {
					if (x.open) {
						x.open = false;
						x.closedBy = k;
						x.closedRound1 = true;
					}
				});
				return;
			}
			j = find(st[k].ev.data.recall, k);
			if (j === NONE) {
				s.problem = 'unknown_target';
				return;
			}
			s.target = j;
			if (st[j].ev.type !== 'recall.issued') {
				s.problem = 'target_kind';
				return;
			}
			rc = r.recalls[recallOf[j]];
			if (!rc.open)
				s.problem = 'already_closed';
			else if (rc.issuerRole === 'regulator' && !regulator)
				s.problem = 'regulator_only';
			else if (!regulator && !(st[k].org !== '' && st[k].org === rc.issuerOrg))
				s.problem = 'wrong_org';
			else {
				rc.open = false;
				rc.closedBy = k;
			}
		}
		function judgeCorrection(k, round1Allowed) {
			var s = r.statements[k], j = find(st[k].ev.data.corrects, k), kind, old;

			if (j === NONE) {
				s.problem = 'unknown_target';
				return;
			}
			s.target = j;
			kind = st[j].ev.type;
			old = kind === 'recall.issued' || kind === 'recall.closed' ||
			    kind === 'product.registered' || kind === 'correction';
			if (old && !round1Allowed) {
				s.problem = 'target_kind';
				return;
			}
			if (st[k].role !== 'regulator' && st[k].ev.signer !== st[j].ev.signer) {
				s.problem = 'not_own';
				return;
			}
			if (old) {
				s.round1 = true;
				s.ignored = kind === 'recall.issued' || kind === 'recall.closed';
			}
		}
		/* fold.c issued_add(): a serials.issued as a set. */
		function issuedSet(k, data) {
			var x = { statement: k, ranges: null, root: null, count: 0,
			    withdrawn: false };

			if (Array.isArray(data.ranges))
				x.ranges = data.ranges.filter(function (p) {
					return Array.isArray(p) && p.length === 2 &&
					    typeof p[0] === 'string' && typeof p[1] === 'string';
				});
			else if (typeof data.root === 'string' && /^[0-9a-f]{64}$/.test(data.root)) {
				x.root = data.root;
				x.count = isInt(data.count) ? data.count : 0;
			}
			return x;
		}
		/* fold.c judge_recall_serials(): SPEC 8 "Targets", 12. */
		function judgeRecallSerials(k, rc) {
			if (rc.ranges === null || r.issued.length === 0 ||
			    r.issued.some(function (x) { return x.ranges === null; }))
				return;
			if (!rc.ranges.every(function (q) {
				return r.issued.some(function (x) {
					return x.ranges.some(function (p) {
						var lo = q[0] > p[0] ? q[0] : p[0],
						    hi = q[1] < p[1] ? q[1] : p[1];

						return q[0].length === p[0].length && lo <= hi;
					});
				});
			}))
				r.statements[k].problem = 'not_issued';
		}
		/* Pass 1: targets and recalls, in log order. */
		st.forEach(function (s, k) {
			var ranges = s.ev.data.serials, severity = s.ev.data.severity, rc;

			/* fold.h pending, compromised: nothing it would clear
			 * counts. */
			if ((s.pending || s.compromised) && clears(s.ev)) {
				r.statements[k].ignored = true;
				return;
			}
			if (s.ev.type === 'recall.issued') {
				recallOf[k] = r.recalls.length;
				rc = { statement: k, id: s.id,
				    severity: isInt(severity) ? severity : 3,
				    issuerRole: s.role, issuerOrg: s.org, ranges: null,
				    open: true, closedBy: NONE, closedRound1: false };
				if (Array.isArray(ranges))
					rc.ranges = ranges.filter(function (p) {
						return Array.isArray(p) && p.length === 2 &&
						    typeof p[0] === 'string' && typeof p[1] === 'string';
					});
				r.recalls.push(rc);
				judgeRecallSerials(k, rc);
			} else if (s.ev.type === 'serials.issued') {
				r.issued.push(issuedSet(k, s.ev.data));
			} else if (s.ev.type === 'recall.closed') {
				judgeClose(k, s.logIndex < round1Before);
			} else if (s.ev.type === 'correction') {
				judgeCorrection(k, s.logIndex < round1Before);
			}
			if (r.statements[k].problem !== 'none' &&
			    r.statements[k].problem !== 'not_issued')
				r.statements[k].ignored = true;
		});
		/* Pass 2: corrections in force, newest first. */
		for (i = st.length - 1; i >= 0; i--) {
			var s = r.statements[i];

			if (s.type === 'correction' && !s.ignored && s.withdrawnBy === NONE)
				r.statements[s.target].withdrawnBy = i;
		}
		r.issued.forEach(function (x) {
			x.withdrawn = r.statements[x.statement].withdrawnBy !== NONE;
		});
		/* Pass 3: what is in force. */
		r.statements.forEach(function (s, k) {
			var inForce = s.withdrawnBy === NONE, data = st[k].ev.data;

			switch (s.type) {
			case 'product.registered':
				if (inForce && r.registration === NONE)
					r.registration = k;
				break;
			case 'inspection.sampled':
				if (inForce)
					r.sampling = k;
				break;
			case 'inspection.completed':
				r.inspections.push({ statement: k, pass: data.result === 'pass',
				    withdrawn: !inForce });
				if (inForce) {
					if (data.result === 'pass') {
						if (!s.pending && !s.compromised)
							newestPass = k;
					} else {
						newestFail = k;
					}
				}
				break;
			case 'customs.declared':
				if (inForce)
					r.declaration = k;
				break;
			case 'customs.released':
				if (inForce && !s.pending && !s.compromised)
					r.release = k;
				break;
			}
		});
		if (newestFail !== NONE) {
			r.inspection = 'fail';
			r.inspectionDeciding = newestFail;
		} else if (newestPass !== NONE) {
			r.inspection = 'pass';
			r.inspectionDeciding = newestPass;
		}
		r.customs = r.release !== NONE ? 'released' :
		    r.declaration !== NONE ? 'declared' : 'none';
		r.recalls.forEach(function (x) {
			r.openRecalls += x.open ? 1 : 0;
		});
		return r;
	}

	/* fold_recall_covers(): byte order of UTF-16 code units equals byte
	 * order of UTF-8 for the ASCII a serial is made of. */
	function covers(rc, serial) {
		if (rc.ranges === null)
			return true;
		return serial.length > 0 && rc.ranges.some(function (p) {
			return p[0].length === serial.length && serial >= p[0] &&
			    serial <= p[1];
		});
	}

	/* fold_serial_status(): indexes into recalls, or NONE. */
	function serialStatus(r, serial) {
		var out = { recall: NONE, other: NONE, closed: NONE },
		    unit = typeof serial === 'string' && serial !== '';

		function serious(a, b) {
			return b === NONE || r.recalls[a].severity <= r.recalls[b].severity;
		}
		r.recalls.forEach(function (rc, k) {
			var c;

			if (!rc.open) {
				if (out.closed === NONE || rc.closedBy > r.recalls[out.closed].closedBy)
					out.closed = k;
				return;
			}
			c = unit ? covers(rc, serial) : rc.ranges === null;
			if (c && serious(k, out.recall))
				out.recall = k;
			else if (!c && serious(k, out.other))
				out.other = k;
		});
		if (r.openRecalls > 0)
			out.closed = NONE;
		return out;
	}

	/* fold_problem_error()'s code, as bundle_verify() reports it. */
	function problemCode(s) {
		if (s.type === 'correction')
			return 'bad_correction';
		return { no_target: 'missing_field', unknown_target: 'bad_target',
		    target_kind: 'bad_target', already_closed: 'bad_target',
		    regulator_only: 'regulator_only', wrong_org: 'wrong_org',
		    not_own: 'role_not_allowed', not_issued: 'serials_not_issued' }[s.problem];
	}

	/* ---- bundle_verify() ----------------------------------------------- */

	/*
	 * Verify bundle (parsed JSON) against the log's vkey and the root's
	 * public key (bytes).  Resolves to a report: failures [{subject,
	 * position, code, message}] in bundle_verify()'s order, events [{ok,
	 * id, ...}], fold (of the events that passed), signatures, proofs.
	 */
	function verifyBundle(bundle, vkey, rootPublic) {
		var report = { failures: [], events: [], keys: [], signatures: 0,
		    proofs: 0, checkpoint: null, fold: null, pending: null },
		    keys = {}, cp = null, pcp = null, events, keyItems, pending,
		    pendingProblem = null, pendingProof = [],
		    /* Org entries that passed, in log order; key entries below
		     * round1Until knew no registry (round 1): the first index
		     * statement or the first org entry, whichever comes first. */
		    orgs = [], round1Until = Infinity, receiptItems = [], receipts = [],
		    indexItem = null, round1Before = Infinity, receiptsPromised = false;

		function failure(subject, position, code, message) {
			report.failures.push({ subject: subject, position: position,
			    code: code, message: message });
			if (subject === 'event')
				report.events[position].ok = false;
			if (subject === 'key')
				report.keys[position].ok = false;
		}
		if (!bundle || typeof bundle !== 'object' ||
		    !Array.isArray(bundle.events) || !Array.isArray(bundle.keys))
			return Promise.reject(new Failure('the bundle is malformed'));
		/* SPEC 9: pending items follow the covered ones (bundle.h). */
		function readPending(item) {
			var it = readItem(item);

			it.pending = true;
			return it;
		}
		pending = bundle.pending;
		events = bundle.events.map(readItem);
		keyItems = bundle.keys.map(readItem);
		if (pending !== undefined) {
			if (!pending || typeof pending !== 'object' || Array.isArray(pending)) {
				pendingProblem = '"pending" is not an object';
			} else if (!Array.isArray(pending.events) || !Array.isArray(pending.keys)) {
				pendingProblem = '"pending" needs "events" and "keys" arrays';
			} else {
				events = events.concat(pending.events.map(readPending));
				keyItems = keyItems.concat(pending.keys.map(readPending));
				if (typeof pending.checkpoint !== 'string')
					pendingProblem = '"pending" has no "checkpoint" (a string)';
				else if (!Array.isArray(pending.consistency) ||
				    pending.consistency.length > PROOF_MAX)
					pendingProblem = '"pending" has no "consistency" proof';
				else
					try {
						pendingProof = pending.consistency.map(function (h) {
							var b = typeof h === 'string' ? bytes(h) : null;

							if (b === null || b.length !== 32)
								fail('bad proof element');
							return b;
						});
					} catch (e) {
						pendingProblem = 'a consistency proof element is not base64 of a 32-byte hash';
					}
			}
			report.pending = { ok: false, checkpoint: null,
			    events: Array.isArray(pending && pending.events) ? pending.events.length : 0,
			    keys: Array.isArray(pending && pending.keys) ? pending.keys.length : 0 };
		}
		/* SPEC 8: index statements that show receipt times (bundle.c
		 * verify_receipts); an unreadable member shows nothing. */
		receiptItems = Array.isArray(bundle.receipts) ?
		    bundle.receipts.map(readItem) : [];
		if (bundle.index && typeof bundle.index === 'object')
			indexItem = readItem(bundle.index.statement);
		events.forEach(function (it) {
			report.events.push({ ok: true, pending: !!it.pending });
		});
		keyItems.forEach(function (it) {
			report.keys.push({ ok: true, pending: !!it.pending });
		});
		/* Leaf hashes and ids first, all at once. */
		function hashes(it) {
			if (!it.readable)
				return null;
			return Promise.all([sha256(it.pae),
			    sha256(concat(new Uint8Array([0]), it.pae))]).then(function (h) {
				it.id = hex(h[0]);
				it.leaf = h[1];
			});
		}
		function proven(it) {
			var c = it.pending ? pcp : cp,
			    which = it.pending ? 'pending checkpoint' : 'checkpoint';

			if (c === null)
				return Promise.resolve('no valid ' + which + ' to check the inclusion proof against');
			/* SPEC 9: pending means logged after the checkpoint. */
			if (it.pending && it.index < cp.size)
				return Promise.resolve('log index ' + it.index + ' is inside the ' +
				    'checkpoint: it is not pending');
			return inclusion(it.index, c.size, it.leaf, it.proof, c.root).then(function (ok) {
				if (!ok)
					return 'the inclusion proof does not verify against the ' + which;
				report.proofs++;
				return null;
			});
		}
		function proofCode(it) {
			return (it.pending ? pcp : cp) !== null ? 'bad_proof' : 'no_checkpoint';
		}
		/* bundle.c verify_pending(): the log's newer checkpoint, which
		 * extends the checkpoint (PROTOCOL 10.2 step 1a). */
		function checkPending() {
			if (pending === undefined)
				return null;
			if (pendingProblem !== null) {
				failure('pending', 0, 'bad_pending', pendingProblem);
				return null;
			}
			return openCheckpoint(pending.checkpoint, vkey).then(function (c) {
				if (c.origin !== c.name) {
					failure('pending', 0, 'bad_pending', 'the pending checkpoint is for log ' +
					    c.origin);
					return null;
				}
				if (cp === null) {
					failure('pending', 0, 'no_checkpoint',
					    'no valid checkpoint for the pending one to extend');
					return null;
				}
				if (!(c.size > cp.size)) {
					failure('pending', 0, 'bad_pending', 'the pending checkpoint (size ' +
					    c.size + ') is not larger than the checkpoint (size ' + cp.size + ')');
					return null;
				}
				return consistency(cp.size, c.size, cp.root, c.root, pendingProof).then(function (ok) {
					if (!ok) {
						failure('pending', 0, 'pending_inconsistent', 'the pending checkpoint ' +
						    '(size ' + c.size + ') does not extend the checkpoint (size ' +
						    cp.size + ')');
						return;
					}
					report.proofs++;
					pcp = report.pending.checkpoint = c;
					report.pending.ok = true;
				});
			}, function (e) {
				failure('pending', 0, 'bad_pending', 'the pending checkpoint does not verify: ' +
				    (e && e.message ? e.message : String(e)));
			});
		}
		return Promise.all(events.concat(keyItems, receiptItems,
		    indexItem !== null ? [indexItem] : []).map(hashes)).then(function () {
			return openCheckpoint(bundle.checkpoint, vkey).then(function (c) {
				if (c.origin !== c.name)
					failure('checkpoint', 0, 'wrong_origin', 'the checkpoint is for log ' + c.origin);
				else
					cp = report.checkpoint = c;
			}, function (e) {
				failure('checkpoint', 0, 'bad_checkpoint', 'the checkpoint does not verify: ' +
				    (e && e.message ? e.message : String(e)));
			});
		}).then(checkPending).then(checkReceipts).then(checkRound1).then(function () {
			if (typeof bundle.chain !== 'string' || bundle.chain === '')
				failure('bundle', 0, 'bad_item', 'the bundle names no chain');
			return sha256(rootPublic);
		}).then(function (h) {
			var rootId = hex(h.slice(0, 16)), order, step = Promise.resolve();

			/* bundle.c verify_keys(): round 1 ends where the index
			 * statements prove round 2 began, org entry or not. */
			round1Until = round1Before;

			keys[rootId] = { isRoot: true, enrolledAt: -1, revokedAt: null,
			    orgKnown: false, org: null, round1Until: Infinity, orgShadowed: false,
			    entry: { keyid: rootId, pub: rootPublic, role: 'admin',
				org: 'trust anchor', prefixes: [], notBefore: null, notAfter: null } };
			/* Key entries in log order: the order the registry changed in. */
			order = keyItems.map(function (it, i) {
				return i;
			}).sort(function (a, b) {
				return keyItems[a].index - keyItems[b].index || a - b;
			});
			order.forEach(function (i) {
				step = step.then(function () {
					return keyEntry(i);
				});
			});
			return step;
		}).then(function () {
			/* Only now is the bound of round 1 known, and every org id
			 * a round-1 free text might shadow. */
			Object.keys(keys).forEach(function (k) {
				var s = keys[k];

				s.round1Until = round1Until;
				s.orgShadowed = !s.isRoot && !s.orgKnown &&
				    orgAt(s.entry.org, Infinity) !== null;
				/* SPEC 8: an enrollment by a compromised admin
				 * received after compromisedAt counts for nothing,
				 * down the tree (keys are in log order). */
				s.enrollmentVoid = !s.isRoot &&
				    keys.hasOwnProperty(s.entry.signer) &&
				    compromised(keys[s.entry.signer], s.enrolledAt);
			});
			report.keys.forEach(function (res) {
				if (res.ok && res.entry && res.entry.op === 'enroll' &&
				    keys.hasOwnProperty(res.entry.keyid))
					res.enrollmentVoid = !!keys[res.entry.keyid].enrollmentVoid;
			});
			return eventChecks();
		}).then(function () {
			return report;
		});

		/* bundle.c verify_round1(): round 2 began at the log's first
		 * index statement (SPEC 8 "Data from round 1"); every index
		 * statement proven in the log bounds it, and so does the
		 * "first" each says (the lot index's statement, the
		 * checkpoint's last leaf, and every receipt): the lowest
		 * bound counts, and a "first" above it is a false one
		 * (first_mismatch). */
		function checkRound1() {
			var st = null, logPub;

			function lower(x) {
				if (x >= 0 && x < round1Before)
					round1Before = x;
			}
			function mismatch(at, first) {
				if (first > round1Before)
					failure('index', 0, 'first_mismatch', 'the index statement at log index ' +
					    at + ' says the log\'s first index statement is at log index ' +
					    first + '; the bundle proves one at or before ' + round1Before);
			}
			function settle(proven) {
				receipts.forEach(function (rc) {
					mismatch(rc.index, rc.first);
				});
				if (proven)
					mismatch(indexItem.index, st.first !== undefined ? st.first : -1);
			}

			round1Before = Infinity;
			receipts.forEach(function (rc) {
				lower(rc.index);
				lower(rc.first);
			});
			if (cp === null || indexItem === null || !indexItem.readable ||
			    indexItem.type !== INDEX_TYPE || indexItem.sigs.length !== 1 ||
			    (st = indexPayload(indexItem)) === null ||
			    st.size !== indexItem.index || indexItem.index + 1 !== cp.size) {
				settle(false);
				return null;
			}
			logPub = bytes(String(vkey).split('+').slice(2).join('+')).slice(1);
			return Promise.all([ed25519(logPub, indexItem.sigs[0], indexItem.pae),
			    inclusion(indexItem.index, cp.size, indexItem.leaf, indexItem.proof,
			    cp.root)]).then(function (ok) {
				var proven = ok[0] && ok[1];

				if (proven) {
					lower(indexItem.index);
					lower(st.first !== undefined ? st.first : -1);
				}
				receiptsPromised = proven && st.maxAge !== undefined;
				settle(proven);
			});
		}

		/* bundle.c check_receipt_time(): the limits ingest enforced
		 * (SPEC 8 "Receipt time"), from the event's receipt when it
		 * says them; maxAge and grace 5 minutes wider (the receipt comes
		 * up to a checkpoint after ingest); pending and round-1 events
		 * unchecked; a receipt missing only when the log promises one. */
		function checkReceiptTime(i, ev, signer, at, isPending) {
			var rc = null, k;

			if (isPending || at < round1Before)
				return;
			for (k = 0; k < receipts.length && rc === null; k++)
				if (receipts[k].index > at)
					rc = receipts[k];
			if (rc === null) {
				if (receiptsPromised)
					failure('event', i, 'missing_receipt', 'no receipt (the first index ' +
					    'statement after it) is shown, though the log promises one');
				return;
			}
			if (rc.maxAge < 0)
				return;
			if (ev.time > rc.time + RECEIPT_SKEW ||
			    ev.time < rc.time - rc.maxAge - RECEIPT_SKEW)
				failure('event', i, 'stale_time', 'received at log index ' + rc.index +
				    ': its time is outside the limits the log enforced');
			else if (!signer.isRoot && signer.entry.notAfter !== null &&
			    rc.time - RECEIPT_SKEW >= signer.entry.notAfter + rc.grace)
				failure('event', i, 'outside_window', 'received at log index ' + rc.index +
				    ': after its key\'s notAfter + grace');
		}

		/* bundle.c verify_receipts(): the log key's index statements,
		 * each proven in the checkpoint's tree, in log order; one that
		 * is not shows nothing (never a failure). */
		function checkReceipts() {
			var logPub;

			if (cp === null || receiptItems.length === 0)
				return null;
			logPub = bytes(String(vkey).split('+').slice(2).join('+')).slice(1);
			return Promise.all(receiptItems.map(function (it) {
				var st = it.readable && !it.pending && it.type === INDEX_TYPE &&
				    it.sigs.length === 1 ? indexPayload(it) : null;

				if (!st || st.size !== it.index)
					return null;
				return Promise.all([ed25519(logPub, it.sigs[0], it.pae),
				    inclusion(it.index, cp.size, it.leaf, it.proof, cp.root)]).then(function (ok) {
					return ok[0] && ok[1] ? { index: it.index, time: st.when,
					    first: st.first !== undefined ? st.first : -1,
					    maxAge: st.maxAge !== undefined ? st.maxAge : -1,
					    grace: st.grace !== undefined ? st.grace : -1 } : null;
				});
			})).then(function (list) {
				receipts = list.filter(function (x) {
					return x !== null;
				}).sort(function (a, b) {
					return a.index - b.index;
				});
			});
		}

		/* policy_compromised(): does a statement at log index at by s
		 * lose its positive effect?  Shown received before
		 * compromisedAt only by the first receipt after it, logged
		 * before the revoke, with a time at or before compromisedAt. */
		function compromised(s, at) {
			var i;

			if (s.enrollmentVoid)
				return true;
			if (s.compromisedAt === undefined || s.compromisedAt === null)
				return false;
			for (i = 0; i < receipts.length; i++)
				if (receipts[i].index > at)
					return receipts[i].index >= s.revokedAt ||
					    receipts[i].time > s.compromisedAt;
			return true;
		}

		/* The org id as it stood just before log index at, or null. */
		function orgAt(id, at) {
			var found = null;

			orgs.forEach(function (v) {
				if (v.at < at && v.org.id === id)
					found = v.org;
			});
			return found;
		}

		/* signer_at(): the signer with its org as at log index at. */
		function signerAt(s, at) {
			var copy, org;

			if (!s.orgKnown)
				return s;
			copy = Object.assign({}, s);
			if ((org = orgAt(s.entry.org, at)) !== null)
				copy.org = org;
			return copy;
		}

		function keyEntry(i) {
			var it = keyItems[i], at = it.index, entry, signer;

			if (!it.readable) {
				failure('key', i, 'bad_item', it.problem);
				return null;
			}
			return parseKeyEntry(it).then(function (e) {
				entry = e;
				if (entry === null) {
					failure('key', i, 'bad_key_entry', 'not a valid key entry');
					return null;
				}
				report.keys[i].entry = entry;
				if (entry.op === 'org' && at < round1Until)
					round1Until = at;
				return proven(it).then(function (why) {
					if (why !== null)
						failure('key', i, proofCode(it), why);
					signer = keys.hasOwnProperty(entry.signer) ? keys[entry.signer] : null;
					if (signer === null || (!signer.isRoot && signer.enrolledAt >= at)) {
						failure('key', i, 'unknown_signer', 'signed by ' + entry.signer +
						    ', which is not an admin key enrolled before it');
						return null;
					}
					if (it.sigs.length !== 1) {
						failure('key', i, 'bad_signatures', 'the envelope carries ' +
						    it.sigs.length + ' signatures; a statement carries exactly one');
						return null;
					}
					return ed25519(signer.entry.pub, it.sigs[0], it.pae).then(function (ok) {
						var target, code, org = null;

						if (!ok) {
							failure('key', i, 'bad_signature', 'signature by ' +
							    entry.signer + ' does not verify');
							return;
						}
						report.signatures++;
						target = entry.op !== 'org' && keys.hasOwnProperty(entry.keyid) ?
						    keys[entry.keyid] : null;
						if (entry.op === 'enroll')
							org = orgAt(entry.org, at);
						code = checkKeyEntry(entry, signerAt(signer, at), target, org,
						    at < round1Until, at);
						if (code !== null) {
							failure('key', i, code, 'key entry ' + entry.keyid + ': ' + code);
							return;
						}
						if (!report.keys[i].ok)
							return;
						if (entry.op === 'org')
							orgs.push({ org: entry, at: at });
						else if (entry.op === 'revoke') {
							target.revokedAt = at;
							target.compromisedAt = entry.compromisedAt;
						}
						else
							keys[entry.keyid] = { isRoot: false, enrolledAt: at,
							    revokedAt: null, entry: entry, orgKnown: org !== null,
							    org: org, round1Until: Infinity, orgShadowed: false };
					});
				});
			});
		}

		function eventChecks() {
			var parsed = [], prevIndex = -1, havePrev = false;

			if (events.length === 0) {
				failure('bundle', 0, 'no_events', 'the bundle has no events');
				return null;
			}
			/* Signatures do not depend on each other: check them together. */
			return Promise.all(events.map(function (it) {
				var ev = it.readable ? parseEvent(it) : null,
				    signer = ev !== null && keys.hasOwnProperty(ev.signer) ? keys[ev.signer] : null;

				parsed.push(ev);
				if (!it.readable)
					return [false, null];
				if (signer === null || it.sigs.length !== 1)
					return Promise.all([false, proven(it)]);
				return Promise.all([ed25519(signer.entry.pub, it.sigs[0], it.pae),
				    proven(it)]);
			})).then(function (checked) {
				events.forEach(function (it, i) {
					var ev = parsed[i], res = report.events[i], at = it.index,
					    signer, code;

					res.logIndex = at;
					if (!it.readable) {
						failure('event', i, 'bad_item', it.problem);
						havePrev = false;
						return;
					}
					res.id = it.id;
					if (ev === null) {
						failure('event', i, 'bad_event', 'not a valid event');
						if (checked[i][1] !== null)
							failure('event', i, proofCode(it), checked[i][1]);
						havePrev = true;
						prevIndex = at;
						return;
					}
					res.parsed = true;
					res.ev = ev;
					if (ev.chain !== bundle.chain)
						failure('event', i, 'wrong_chain', 'belongs to chain ' + ev.chain);
					if (ev.seq !== i)
						failure('event', i, 'seq_order', 'seq ' + ev.seq + ' where ' + i +
						    ' was due: an event is missing or out of order');
					if (i > 0 && (ev.prev === null || !havePrev ||
					    ev.prev !== events[i - 1].id))
						failure('event', i, 'wrong_prev', 'prev does not link to the event before it');
					if (at <= prevIndex)
						failure('event', i, 'log_order', 'log index ' + at +
						    ' is not after the previous event\'s ' + prevIndex);
					if (checked[i][1] !== null)
						failure('event', i, proofCode(it), checked[i][1]);
					signer = keys.hasOwnProperty(ev.signer) ? keys[ev.signer] : null;
					if (signer === null) {
						failure('event', i, 'unknown_key', 'signer ' + ev.signer +
						    ' has no valid key entry in the bundle');
					} else if (it.sigs.length !== 1) {
						failure('event', i, 'bad_signatures', 'the envelope carries ' +
						    it.sigs.length + ' signatures; a statement carries exactly one');
					} else if (!checked[i][0]) {
						failure('event', i, 'bad_signature', 'signature by ' + ev.signer +
						    ' does not verify');
					} else {
						report.signatures++;
						res.signer = signer;
						code = checkEvent(ev, signerAt(signer, at), at);
						if (code !== null)
							failure('event', i, code, 'signer ' + ev.signer + ': ' + code);
						checkReceiptTime(i, ev, signer, at, !!it.pending);
					}
					havePrev = true;
					prevIndex = at;
				});
				foldEvents();
			});
		}

		function foldEvents() {
			var st = [], position = [];

			report.events.forEach(function (res, i) {
				res.foldIndex = NONE;
				if (!res.ok || !res.parsed || !res.signer)
					return;
				res.foldIndex = st.length;
				position.push(i);
				res.compromised = compromised(res.signer, res.logIndex);
				st.push({ ev: res.ev, id: res.id, logIndex: res.logIndex,
				    role: res.signer.entry.role, org: foldOrg(res.signer),
				    pending: res.pending, compromised: res.compromised });
			});
			report.round1Before = round1Before;
			report.fold = fold(st, round1Before);
			report.fold.statements.forEach(function (s, k) {
				if (s.problem !== 'none')
					failure('event', position[k], problemCode(s),
					    'the statement breaks a target rule (' + s.problem + ')');
			});
		}
	}

	/* The canonical summary tests/unit/test_corpus.c writes for the C
	 * verdict: one line of JSON, byte for byte the same for the same
	 * bundle. */
	function summary(report, serials) {
		var f = report.fold || fold([]), out = [], list;

		function id(k) {
			return k === NONE ? 'null' : '"' + f.statements[k].id + '"';
		}
		function recall(k) {
			return k === NONE ? 'null' : id(f.recalls[k].statement);
		}
		function status(s) {
			var x = serialStatus(f, s);

			return '"recall":' + recall(x.recall) + ',"other":' + recall(x.other) +
			    ',"closed":' + recall(x.closed);
		}
		list = report.failures.map(function (x) {
			return x.subject + ' ' + x.position + ' ' + x.code;
		}).sort(function (a, b) {
			return a < b ? -1 : a > b ? 1 : 0;
		});
		out.push('{"ok":' + (report.failures.length === 0) + ',"failures":' +
		    JSON.stringify(list) + ',"folded":' + f.statements.length + ',"recalls":[' +
		    f.recalls.map(function (rc) {
			return '{"id":"' + rc.id + '","open":' + rc.open + ',"closedBy":' +
			    id(rc.closedBy) + ',"round1":' + rc.closedRound1 + '}';
		    }).join(',') + ']');
		out.push('"inspection":"' + f.inspection + '","customs":"' + f.customs + '"');
		out.push('"lot":{' + status('') + '}');
		out.push('"serials":[' + serials.map(function (s) {
			return '{"serial":' + JSON.stringify(s) + ',' + status(s) +
			    ',"issued":' + String(serialIssued(f, s, [])) + '}';
		}).join(',') + ']');
		out.push('"withdrawn":[' + f.statements.filter(function (s) {
			return s.withdrawnBy !== NONE;
		}).map(function (s) {
			return '{"id":"' + s.id + '","by":' + id(s.withdrawnBy) + '}';
		}).join(',') + ']');
		out.push('"ignored":' + JSON.stringify(f.statements.filter(function (s) {
			return s.ignored;
		}).map(function (s) {
			return s.id;
		})));
		out.push('"problems":[' + f.statements.filter(function (s) {
			return s.problem !== 'none';
		}).map(function (s) {
			return '{"id":"' + s.id + '","problem":"' + s.problem + '"}';
		}).join(',') + ']');
		out.push('"round1":' + JSON.stringify(f.statements.filter(function (s) {
			return s.round1;
		}).map(function (s) {
			return s.id;
		})));
		out.push('"compromised":' + JSON.stringify(f.statements.filter(function (s) {
			return s.compromised;
		}).map(function (s) {
			return s.id;
		})) + '}');
		return out.join(',');
	}

	/* ---- memory (SPEC 10, docs/PROTOCOL.md 10.4.3) ---------------------- */

	var MEMORY = 'trace.checkpoint.', EVIDENCE = 'trace.evidence.';

	function storage() {
		try {
			return window.localStorage || null;
		} catch (e) {
			return null;      /* storage disabled: nothing is remembered */
		}
	}

	/*
	 * Hold note (a checkpoint just verified under vkey, cp its body) against
	 * the largest one this browser verified for that log before.
	 * proof(from, to) gives a consistency proof (a promise of an array of
	 * 32-byte arrays).  Resolves {state, remembered, presented, message}:
	 * state 'first' (remembered now), 'same', 'grew' (proved, remembered
	 * now), 'fork', 'rollback' (both notes kept under trace.evidence.*),
	 * 'unproven' (no proof to be had; memory unchanged) or 'off'.
	 */
	function checkMemory(note, cp, vkey, proof) {
		var store = storage(), m = /^([^+]+)\+([0-9a-f]{8})\+/.exec(String(vkey)),
		    key, old = null;

		function result(state, message) {
			var r = { state: state, remembered: old, presented: note,
			    message: message || '' };

			if (state === 'first' || state === 'grew') {
				try {
					store.setItem(key, note);
				} catch (e) { /* full: remembering is best effort */ }
			}
			if (state === 'fork' || state === 'rollback') {
				try {
					store.setItem(EVIDENCE + Date.now(), JSON.stringify({
					    kind: state, origin: cp.origin, vkey: vkey,
					    detected: new Date().toISOString(), reason: message,
					    remembered: old, presented: note }));
				} catch (e) { /* the page shows both anyway */ }
			}
			return r;
		}
		if (store === null || m === null || typeof note !== 'string')
			return Promise.resolve({ state: 'off' });
		key = MEMORY + m[1] + '+' + m[2];
		try {
			old = store.getItem(key);
		} catch (e) {
			return Promise.resolve({ state: 'off' });
		}
		if (old === null)
			return Promise.resolve(result('first'));
		return openCheckpoint(old, vkey).then(function (o) {
			if (o.origin !== cp.origin || o.size === 0)
				return result('first');
			if (o.size === cp.size)
				return equal(o.root, cp.root) ? result('same') :
				    result('fork', 'two trees of size ' + cp.size);
			if (cp.size < o.size)
				return result('rollback', 'size ' + cp.size + ' after size ' +
				    o.size + ' was shown');
			return Promise.resolve(proof(o.size, cp.size)).then(function (hashes) {
				return consistency(o.size, cp.size, o.root, cp.root, hashes);
			}).then(function (ok) {
				return ok ? result('grew') : result('fork', 'size ' + o.size +
				    ' is not a prefix of size ' + cp.size);
			}, function (e) {
				return result('unproven', e && e.message ? e.message : String(e));
			});
		}, function () {
			/* What is stored does not verify (edited by hand): start again. */
			old = null;
			return result('first');
		});
	}

	/* GET /api/v1/proofs/consistency of base as checkMemory() wants it. */
	function consistencyFrom(base) {
		return function (from, to) {
			return fetch(base + '/api/v1/proofs/consistency?from=' + from + '&to=' + to,
			    { cache: 'no-store', credentials: 'omit' }).then(function (r) {
				if (!r.ok)
					fail('no consistency proof (' + r.status + ')');
				return r.json();
			}).then(function (doc) {
				if (!doc || !Array.isArray(doc.hashes) || doc.hashes.length > PROOF_MAX)
					fail('a malformed consistency proof');
				return doc.hashes.map(bytes);
			});
		};
	}

	/* ---- SPEC 12: issued serials (libtrace/units.c, fold.c) --------------
	 *
	 * Kept apart from the rest of the verifier: whether a serial was issued
	 * for its lot, from the fold's sets, and the check of the server's
	 * membership / non-membership proofs for a set declared by a root
	 * (docs/PROTOCOL.md 12.2).  A proof is {root, count, member, leaf |
	 * left, right}, each leaf {serial, index, path: [hex]}.
	 */

	/* units_verify(): resolves to true (member), false (provably not), or
	 * null (the proof does not check). */
	function verifyIssuedProof(serial, p, root, count) {
		function leafOk(l) {
			var data;

			if (!l || typeof l.serial !== 'string' || !isInt(l.index) ||
			    !Array.isArray(l.path) || l.path.length > PROOF_MAX ||
			    !l.path.every(function (h) { return /^[0-9a-f]{64}$/.test(h); }))
				return Promise.resolve(false);
			data = utf8.encode(l.serial);
			return sha256(concat(new Uint8Array([0]), data)).then(function (h) {
				return inclusion(l.index, count, h, l.path.map(unhex),
				    unhex(root));
			});
		}
		function unhex(h) {
			var a = new Uint8Array(h.length / 2), i;

			for (i = 0; i < a.length; i++)
				a[i] = parseInt(h.substr(2 * i, 2), 16);
			return a;
		}
		if (!p || p.root !== root || p.count !== count ||
		    !/^[0-9a-f]{64}$/.test(root))
			return Promise.resolve(null);
		if (p.member)
			return p.leaf && p.leaf.serial === serial ?
			    leafOk(p.leaf).then(function (ok) { return ok ? true : null; }) :
			    Promise.resolve(null);
		if ((!p.left && !p.right) ||
		    (p.left && !(p.left.serial < serial)) ||
		    (p.right && !(p.right.serial > serial)) ||
		    (p.left && p.right && p.right.index !== p.left.index + 1) ||
		    (p.left && !p.right && p.left.index !== count - 1) ||
		    (p.right && !p.left && p.right.index !== 0))
			return Promise.resolve(null);
		return Promise.all([p.left ? leafOk(p.left) : true,
		    p.right ? leafOk(p.right) : true]).then(function (ok) {
			return ok[0] && ok[1] ? false : null;
		});
	}

	/* fold_serial_issued(), given the answers verifyIssuedProof() gave
	 * per root (answers: {rootHex: true|false}): true, false or null. */
	function serialIssued(f, serial, answers) {
		var any = false, unknown = false, yes = false;

		if (typeof serial !== 'string' || serial === '')
			return null;
		(f.issued || []).forEach(function (x) {
			if (x.withdrawn)
				return;
			any = true;
			if (x.root === null) {
				yes = yes || (x.ranges !== null && covers(x, serial));
				return;
			}
			if (answers && answers[x.root] === true)
				yes = true;
			else if (!answers || answers[x.root] !== false)
				unknown = true;
		});
		return yes ? true : !any || unknown ? null : false;
	}

	window.TraceVerify = { verifyBundle: verifyBundle, summary: summary,
	    serialStatus: serialStatus, publicKeyCheck: strongKey, bytes: bytes,
	    hex: hex, sha256: sha256, concat: concat, ed25519: ed25519,
	    ed25519Js: ed25519Js, ed25519Precheck: ed25519Precheck, openCheckpoint: openCheckpoint,
	    consistency: consistency, checkMemory: checkMemory,
	    consistencyFrom: consistencyFrom, Failure: Failure,
	    serialIssued: serialIssued, verifyIssuedProof: verifyIssuedProof };


	/* ---- completeness (SPEC 11) -------------------------------------------
	 * The lot index: does the bundle hold the whole chain, and every entry
	 * of its keys, as of its checkpoint?  A port of libtrace/bundleindex.c
	 * over docs/PROTOCOL.md 9.10 and 10.5, kept in this section on its own
	 * (the rest of the file is the signature, proof, fold and memory code).
	 * checkCompleteness(bundle, report, vkey, rootPublic) resolves to
	 * {state: 'complete' | 'absent' | 'incomplete' | 'unknown', size, time,
	 * code, message, witnesses, witnessedAt}; report is verifyBundle()'s.
	 */
	var INDEX_TYPE = 'application/vnd.trace.index.v1+json', RECEIPT_SKEW = 300;

	function indexU64(n) {
		var b = new Uint8Array(8), v = BigInt(n), i;

		for (i = 7; i >= 0; i--) {
			b[i] = Number(v & BigInt(255));
			v >>= BigInt(8);
		}
		return b;
	}

	function indexReadU64(a, off) {
		var v = BigInt(0), i;

		for (i = 0; i < 8; i++)
			v = (v << BigInt(8)) | BigInt(a[off + i]);
		return Number(v);
	}

	function indexBit(k, i) {
		return (k[i >> 3] >> (7 - (i & 7))) & 1;
	}

	function fromHex(s) {
		var out = new Uint8Array(s.length / 2), i;

		for (i = 0; i < out.length; i++)
			out[i] = parseInt(s.substr(2 * i, 2), 16);
		return out;
	}

	function indexValue(count, id, logIndex) {
		return sha256(concat(indexU64(count), id, indexU64(logIndex)));
	}

	function indexLeaf(key, value) {
		return sha256(concat(new Uint8Array([0]), key, value));
	}

	function chainKey(chain) {
		return sha256(utf8.encode(chain));
	}

	function keyidKey(keyid) {
		return sha256(concat(utf8.encode('key'), new Uint8Array([0]), utf8.encode(keyid)));
	}

	/* docs/PROTOCOL.md 9.10.5: {kind, count, id, logIndex} or a Failure
	 * whose message starts with its code. */
	function verifyIndexProof(p, key, root) {
		var kind, depth, t, sibs = [], i, start, other, chain;

		if (p.length < 4 || p[0] !== 1 || p[1] > 2)
			return Promise.reject(new Failure('bad_index_proof: bad header'));
		kind = p[1];
		depth = (p[2] << 8) | p[3];
		t = [48, 0, 64][kind];
		if (depth > 256 || p.length !== 4 + t + 32 * depth)
			return Promise.reject(new Failure('bad_index_proof: wrong length'));
		for (i = 0; i < depth; i++)
			sibs.push(p.slice(4 + t + 32 * i, 4 + t + 32 * (i + 1)));
		if (depth > 0 && sibs[depth - 1].every(function (x) { return x === 0; }))
			return Promise.reject(new Failure('bad_index_proof: not of the canonical tree'));
		if (kind === 0) {
			start = indexValue(indexReadU64(p, 4), p.slice(12, 44),
			    indexReadU64(p, 44)).then(function (v) {
				return indexLeaf(key, v);
			});
		} else if (kind === 1) {
			start = Promise.resolve(new Uint8Array(32));
		} else {
			other = p.slice(4, 36);
			if (equal(other, key))
				return Promise.reject(new Failure('bad_index_proof: ends at the key itself'));
			for (i = 0; i < depth; i++)
				if (indexBit(other, i) !== indexBit(key, i))
					return Promise.reject(new Failure('bad_index_proof: off the path'));
			start = indexLeaf(other, p.slice(36, 68));
		}
		chain = start;
		for (i = depth - 1; i >= 0; i--) {
			(function (i) {
				chain = chain.then(function (h) {
					return sha256(indexBit(key, i) === 0 ?
					    concat(new Uint8Array([1]), h, sibs[i]) :
					    concat(new Uint8Array([1]), sibs[i], h));
				});
			})(i);
		}
		return chain.then(function (h) {
			if (!equal(h, root))
				fail('index_proof_mismatch: the index proof does not lead to the index root');
			return kind === 0 ? { kind: 0, count: indexReadU64(p, 4),
			    id: hex(p.slice(12, 44)), logIndex: indexReadU64(p, 44) } :
			    { kind: kind };
		});
	}

	/* Names and newest time of the cosignatures on the note (unverified
	 * here: the server's page and verify --policy check them). */
	function cosigners(note, origin) {
		var names = [], when = 0;

		String(note).split('\n\n').slice(1).join('\n').split('\n').forEach(function (line) {
			var m = /^\u2014 (\S+) (\S+)$/.exec(line), raw;

			if (!m || m[1] === origin)
				return;
			try {
				raw = bytes(m[2]);
			} catch (e) {
				return;
			}
			if (raw.length !== 4 + 8 + 64)
				return;
			names.push(m[1]);
			when = Math.max(when, indexReadU64(raw, 4));
		});
		return { names: names, time: when };
	}

	function checkCompleteness(bundle, report, vkey, rootPublic) {
		var ix = bundle.index, cp = report.checkpoint, res = { state: 'unknown' },
		    st, stItem, logPub, problems = [], lotChain = bundle.chain;

		function problem(code, message) {
			problems.push({ code: code, message: message });
		}
		function finish() {
			if (problems.length) {
				res.state = 'incomplete';
				res.code = problems[0].code;
				res.message = problems[0].message;
			}
			return res;
		}
		if (!ix) {
			res.code = 'no_index';
			res.message = 'the bundle carries no lot index, so nothing shows that no event was left out';
			return Promise.resolve(res);
		}
		if (!cp) {
			res.code = 'no_checkpoint';
			res.message = 'no valid checkpoint to check the lot index against';
			return Promise.resolve(res);
		}
		stItem = readItem(ix.statement);
		if (!stItem.readable || typeof ix.lot !== 'string' || !Array.isArray(ix.keys)) {
			problem('bad_index', 'the index member is malformed');
			return Promise.resolve(finish());
		}
		logPub = bytes(String(vkey).split('+').slice(2).join('+')).slice(1);
		return Promise.all([sha256(concat(new Uint8Array([0]), stItem.pae)),
		    stItem.sigs.length === 1 && stItem.type === INDEX_TYPE ?
		    ed25519(logPub, stItem.sigs[0], stItem.pae) : false]).then(function (r) {
			var when;

			if (!r[1])
				fail('bad_index_signature: the index statement is not signed by the log key');
			st = parsePayload(stItem);
			when = st && seconds(st.time);
			if (!st || st.v !== 1 || st.type !== 'index' || !isInt(st.size) ||
			    typeof st.root !== 'string' || !/^[0-9a-f]{64}$/.test(st.root) ||
			    when === null || !/Z$/.test(st.time))
				fail('bad_index: the index statement is malformed');
			if (stItem.index + 1 !== cp.size || st.size !== stItem.index)
				fail('stale_index: the index statement at log index ' + stItem.index +
				    ' is not the last leaf of checkpoint ' + cp.size);
			st.when = when;
			return inclusion(stItem.index, cp.size, r[0], stItem.proof, cp.root);
		}).then(function (ok) {
			var root = fromHex(st.root);

			if (!ok)
				fail('bad_index_proof: the index statement\'s inclusion proof does not verify');
			res.size = cp.size;
			res.time = st.time;
			return chainKey(lotChain).then(function (key) {
				return verifyIndexProof(bytes(ix.lot), key, root);
			}).then(function (lot) {
				var shown = bundle.events.length, head;

				if (lot.kind !== 0) {
					if (shown > 0)
						problem('index_mismatch', 'the index says this lot has no events ' +
						    'as of checkpoint ' + cp.size + ', yet the bundle shows ' + shown);
					res.absent = true;
					return;
				}
				if (lot.count > shown) {
					problem('truncated', 'the index commits to ' + lot.count +
					    ' events of this lot as of checkpoint ' + cp.size + '; the bundle shows ' +
					    shown + ': ' + (lot.count - shown) + ' left out (a recall may be hidden)');
					return;
				}
				head = readItem(bundle.events[lot.count - 1]);
				return (head.readable ? sha256(head.pae) : Promise.resolve(null)).then(function (id) {
					if (lot.count < shown || id === null || hex(id) !== lot.id ||
					    head.index !== lot.logIndex)
						problem('index_mismatch', 'the index commits to ' + lot.count +
						    ' events ending at log index ' + lot.logIndex +
						    '; the bundle shows ' + shown + ' events with another head');
				});
			}).then(function () {
				return sha256(rootPublic);
			}).then(function (h) {
				var rootId = hex(h.slice(0, 16)), named = {}, order = [], entries = {};

				bundle.keys.forEach(function (item) {
					var it = readItem(item), d = it.readable ? parsePayload(it) : null;

					if (!d || !isKeyId(d.keyid))
						return;
					if (!named[d.keyid])
						order.push(d.keyid);
					named[d.keyid] = true;
					(entries[d.keyid] = entries[d.keyid] || []).push(it);
					if (seconds(d.time) !== null && seconds(d.time) > st.when + RECEIPT_SKEW)
						problem('receipt_time', 'the key entry at log index ' + it.index +
						    ' claims a time more than 5 minutes after the index statement');
				});
				bundle.events.forEach(function (item) {
					var it = readItem(item), d = it.readable ? parsePayload(it) : null;

					if (!d)
						return;
					if (isKeyId(d.signer) && !named[d.signer]) {
						named[d.signer] = true;
						order.push(d.signer);
					}
					if (seconds(d.time) !== null && seconds(d.time) > st.when + RECEIPT_SKEW)
						problem('receipt_time', 'event seq ' + d.seq + ' claims a time more ' +
						    'than 5 minutes after the index statement that received it');
				});
				return order.filter(function (k) {
					return k !== rootId;
				}).reduce(function (step, keyid) {
					return step.then(function () {
						var given = ix.keys.filter(function (k) {
							return k && k.keyid === keyid;
						})[0], list = entries[keyid] || [], last = null;

						if (!given || typeof given.proof !== 'string') {
							problem('missing_key_proof', 'no index proof for key ' + keyid);
							return;
						}
						list.forEach(function (it) {
							if (last === null || it.index > last.index)
								last = it;
						});
						return keyidKey(keyid).then(function (key) {
							return verifyIndexProof(bytes(given.proof), key, root);
						}).then(function (k) {
							if (k.kind !== 0) {
								if (list.length > 0)
									problem('index_mismatch', 'the index has no entries ' +
									    'naming key ' + keyid);
								return;
							}
							if (k.count > list.length) {
								problem('key_entries_hidden', 'the index counts ' + k.count +
								    ' entries naming key ' + keyid + '; the bundle shows ' +
								    list.length + ': a revocation may be hidden');
								return;
							}
							return sha256(last.pae).then(function (id) {
								if (k.count < list.length || hex(id) !== k.id ||
								    last.index !== k.logIndex)
									problem('index_mismatch', 'the index\'s entry for key ' +
									    keyid + ' does not match the bundle\'s entries');
							});
						}, function (e) {
							problem(String(e.message).split(':')[0], 'the index proof of key ' +
							    keyid + ': ' + e.message);
						});
					});
				}, Promise.resolve());
			}, function (e) {
				problem(String(e.message).split(':')[0], 'the index proof of the lot: ' + e.message);
			});
		}).then(function () {
			var w = cosigners(bundle.checkpoint, cp.origin);

			res.witnesses = w.names;
			res.witnessedAt = w.time;
			if (problems.length === 0)
				res.state = res.absent ? 'absent' : 'complete';
			return finish();
		}, function (e) {
			var m = String(e && e.message ? e.message : e);

			problem(m.split(':')[0], m);
			return finish();
		});
	}

	/* The page's line: "complete as of checkpoint N (witnessed by ... at
	 * T)", or why not (then the page distrusts the verdict). */
	function completenessText(c) {
		var at = '';

		if (c.state === 'complete') {
			if (c.witnesses && c.witnesses.length)
				at = ' (witnessed by ' + c.witnesses.join(', ') + ' at ' +
				    new Date(c.witnessedAt * 1000).toISOString().replace('.000Z', 'Z') + ')';
			return '\u2714 \u5b8c\u6574 \u00b7 Complete as of checkpoint ' + c.size + at +
			    ': every event of this lot is shown';
		}
		if (c.state === 'absent')
			return '\u2716 This lot is unknown to the log as of checkpoint ' + c.size;
		return '\u2716 \u4e0d\u5b8c\u6574 \u00b7 NOT complete' + (c.size ? ' as of checkpoint ' +
		    c.size : '') + ': ' + c.message + ' (' + c.code + ')';
	}

	window.TraceVerify.checkCompleteness = checkCompleteness;
	window.TraceVerify.verifyIndexProof = verifyIndexProof;
	window.TraceVerify.completenessText = completenessText;

	/* ---- witnessed checkpoints (SPEC 9) -------------------------------------
	 * C2SP tlog-policy and tlog-cosignature (cosignature/v1, as
	 * libtrace/cosign.c and tlog_policy_verify()): does a checkpoint carry
	 * the quorum of a witness policy?  The consumer page (below) and the
	 * standalone verifier (web/verifier/verifier.js) both call
	 * witnessQuorum(note, policyText, vkey), which resolves to
	 * {ok, code, message, detail, names, got: {witness: timestamp},
	 * newest}; code (null when ok) is 'bad_policy', 'wrong_log' (the
	 * policy does not list vkey), 'bad_cosignature' (a listed witness's
	 * line that does not verify) or 'quorum'.
	 */
	function WitnessProblem(code, message, detail) {
		this.code = code;
		this.message = message;
		this.detail = detail || '';
	}

	/* The policy text (docs/PROTOCOL.md 9.7). */
	function parsePolicy(textValue) {
		var p = { logs: [], witnesses: {}, groups: {}, quorum: null, order: [] };

		String(textValue).split('\n').forEach(function (line, n) {
			var f = line.trim().split(/[ \t]+/), k;

			if (f[0] === '' || f[0].charAt(0) === '#')
				return;
			if (f[0] === 'log' && f.length >= 2) {
				p.logs.push(f[1]);
			} else if (f[0] === 'witness' && f.length >= 3) {
				p.witnesses[f[1]] = { name: f[1], vkey: f[2] };
				p.order.push(f[1]);
			} else if (f[0] === 'group' && f.length >= 4) {
				k = f[2] === 'all' ? f.length - 3 : f[2] === 'any' ? 1 : Number(f[2]);
				p.groups[f[1]] = { threshold: k, members: f.slice(3) };
			} else if (f[0] === 'quorum' && f.length === 2) {
				p.quorum = f[1];
			} else {
				throw new WitnessProblem('bad_policy', 'The witness policy is malformed',
				    'line ' + (n + 1));
			}
		});
		if (p.quorum === null)
			throw new WitnessProblem('bad_policy', 'The witness policy has no quorum');
		return p;
	}

	/* vkey "name+hash+base64(0x04 || key)" of a cosignature/v1 key. */
	function witnessKey(vkey) {
		var m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey), raw;

		if (!m)
			return Promise.resolve(null);
		raw = bytes(m[3]);
		if (raw.length !== 33 || raw[0] !== 4)
			return Promise.resolve(null);
		return sha256(concat(new TextEncoder().encode(m[1] + '\n'), raw)).then(function (h) {
			return hex(h.slice(0, 4)) === m[2] ?
			    { name: m[1], id: m[2], pub: raw.slice(1) } : null;
		});
	}

	/* Every listed witness's cosignature on note: {name: timestamp} of
	 * those that verify; a listed witness's line that does not verify is
	 * a WitnessProblem (as tlog_policy_verify() fails it). */
	function cosignatures(note, policy) {
		var split = note.indexOf('\n\n'), body = note.slice(0, split + 1),
		    lines = note.slice(split + 2).split('\n'), got = {};

		return Promise.all(policy.order.map(function (wname) {
			return witnessKey(policy.witnesses[wname].vkey).then(function (key) {
				if (key === null)
					throw new WitnessProblem('bad_policy', 'The witness policy is malformed', wname);
				return Promise.all(lines.filter(function (l) {
					return l.indexOf('\u2014 ' + key.name + ' ') === 0;
				}).map(function (l) {
					var raw = bytes(l.slice(key.name.length + 3)), ts = 0, i, msg;

					if (hex(raw.slice(0, 4)) !== key.id)
						return null;
					if (raw.length !== 76)
						throw new WitnessProblem('bad_cosignature',
						    'A witness cosignature is malformed', wname);
					for (i = 4; i < 12; i++)
						ts = ts * 256 + raw[i];
					msg = new TextEncoder().encode('cosignature/v1\ntime ' + ts + '\n' + body);
					return ed25519(key.pub, raw.slice(12), msg).then(function (ok) {
						if (!ok)
							throw new WitnessProblem('bad_cosignature',
							    'The cosignature by ' + wname + ' does not verify');
						if (!got.hasOwnProperty(wname) || ts > got[wname])
							got[wname] = ts;
					});
				}));
			});
		})).then(function () {
			return got;
		});
	}

	function satisfied(policy, name, got, depth) {
		var g = policy.groups[name];

		if (depth > 64)
			return false;
		if (policy.witnesses.hasOwnProperty(name))
			return got.hasOwnProperty(name);
		if (!g)
			return false;
		return g.members.filter(function (m) {
			return satisfied(policy, m, got, depth + 1);
		}).length >= g.threshold;
	}

	function witnessQuorum(note, policyText, vkey) {
		var result = { ok: false, code: null, message: '', detail: '', names: [], got: {},
		    newest: 0 };

		return Promise.resolve().then(function () {
			var policy = parsePolicy(policyText);

			if (policy.logs.indexOf(vkey) < 0)
				throw new WitnessProblem('wrong_log', 'The witness policy does not list the log key');
			return cosignatures(String(note), policy).then(function (got) {
				result.got = got;
				result.names = Object.keys(got);
				result.names.forEach(function (n) {
					result.newest = Math.max(result.newest, got[n]);
				});
				if (policy.quorum !== 'none' && !satisfied(policy, policy.quorum, got, 0))
					throw new WitnessProblem('quorum', 'The witness quorum is not met',
					    'cosigned by: ' + (result.names.join(', ') || 'none'));
				result.ok = true;
				return result;
			});
		}).catch(function (e) {
			if (!(e instanceof WitnessProblem))
				e = new WitnessProblem('bad_cosignature', 'A witness cosignature is malformed',
				    e && e.message ? e.message : String(e));
			result.ok = false;
			result.code = e.code;
			result.message = e.message;
			result.detail = e.detail;
			return result;
		});
	}

	window.TraceVerify.witnessQuorum = witnessQuorum;

	/* ---- the page ------------------------------------------------------ */

	var out = document.getElementById('device-check');

	if (!out || !window.fetch)
		return;

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

	/* The page's recall state (chainview.c summarise()) from the fold. */
	function recallState(f, serial) {
		var s = serialStatus(f, serial);

		if (s.recall !== NONE)
			return 'open';
		if (s.other !== NONE)
			return serial !== '' ? 'open_other' : 'open_partial';
		return s.closed !== NONE ? 'closed' : 'none';
	}

	/* A badge or line the server rendered, now with this device's status
	 * (its text from the page's catalog, data-msg-*). */
	function mark(id, cls, status, text) {
		var e = document.getElementById(id);

		if (!e || !text)
			return;
		e.className = cls;
		if (status !== null)
			e.setAttribute('data-status', status);
		e.textContent = text;
	}

	/*
	 * A recall open for this unit (or, on the lot's page, for part of it)
	 * that the server's page does not show gets its banner, first on the
	 * page, from the recall statement itself.  A banner the server shows is
	 * never taken away here: a recall warning errs on the safe side, and
	 * the mismatch warning says what this device computed.
	 */
	function recallBanner(f, serial, state) {
		var d = out.dataset, s = serialStatus(f, serial), rc, data, section, div,
		    h1, p, ranges;

		if ((state !== 'open' && state !== 'open_partial') ||
		    document.getElementById('recall') || !d.msgRecallTitle)
			return;
		rc = f.recalls[s.recall !== NONE ? s.recall : s.other];
		data = f.statements[rc.statement].data;
		section = document.createElement('section');
		section.className = 'recall';
		section.id = 'recall';
		section.setAttribute('role', 'alert');
		section.setAttribute('data-source', 'device');
		div = section.appendChild(document.createElement('div'));
		h1 = div.appendChild(document.createElement('h1'));
		h1.textContent = '\u26a0 ' + d.msgRecallTitle;
		p = div.appendChild(document.createElement('p'));
		ranges = (rc.ranges || []).map(function (x) {
			return x[0] === x[1] ? x[0] : x[0] + '\u2013' + x[1];
		}).join(', ');
		p.textContent = state === 'open' ? d.msgRecallUnit :
		    String(d.msgRecallPartial).replace('{0}', ranges);
		p = div.appendChild(document.createElement('p'));
		p.className = 'action';
		p.textContent = d.msgRecallAction + ': ' + String(data.action);
		document.body.insertBefore(section, document.body.firstChild);
	}

	/*
	 * The status this device computed replaces the server's text in the
	 * badges and the customs line; where the two differ, the page says so
	 * in a warning the server did not write.
	 */
	function applyFold(f) {
		var d = out.dataset, serial = d.serial || '', state = recallState(f, serial),
		    recalled = state === 'open' || state === 'open_partial', differs = [],
		    warn;

		if (d.recallState !== undefined && d.recallState !== state)
			differs.push('recall: ' + d.recallState + ' \u2192 ' + state);
		if (d.inspection !== undefined && d.inspection !== f.inspection)
			differs.push('inspection: ' + d.inspection + ' \u2192 ' + f.inspection);
		if (d.customs !== undefined && d.customs !== f.customs)
			differs.push('customs: ' + d.customs + ' \u2192 ' + f.customs);
		mark('badge-inspection', 'badge ' + (f.inspection === 'pass' ? 'ok' :
		    f.inspection === 'fail' ? 'bad' : 'no'), f.inspection,
		    f.inspection === 'pass' ? d.msgInspected : f.inspection === 'fail' ?
		    d.msgFailed : d.msgNotinspected);
		mark('badge-customs', 'badge ' + (f.customs === 'released' ? 'ok' : 'no'),
		    f.customs, f.customs === 'released' ? d.msgCleared : d.msgNotcleared);
		mark('badge-recall', 'badge ' + (recalled ? 'bad' : 'ok'), state,
		    recalled ? d.msgRecalled : d.msgNotrecalled);
		mark('customs-status', f.customs === 'released' ? 'ok-text' : '', null,
		    f.customs === 'released' ? d.msgCustomsReleased :
		    f.customs === 'declared' ? d.msgCustomsDeclared : d.msgCustomsNone);
		recallBanner(f, serial, state);
		out.setAttribute('data-fold-recall', state);
		out.setAttribute('data-fold-inspection', f.inspection);
		out.setAttribute('data-fold-customs', f.customs);
		if (differs.length === 0)
			return true;
		warn = document.createElement('p');
		warn.id = 'fold-mismatch';
		warn.className = 'note warn';
		warn.setAttribute('role', 'alert');
		warn.textContent = '\u26a0 ' + (d.msgMismatch || 'This device computed a different status than the server shows') +
		    ': ' + differs.join('; ');
		out.parentNode.insertBefore(warn, out.nextSibling);
		return false;
	}

	/* What the memory caught, visibly, with both signed notes. */
	function memoryAlert(mem) {
		var warn = document.createElement('div'), p, pre;

		warn.id = 'memory-alert';
		warn.className = 'note warn';
		warn.setAttribute('role', 'alert');
		warn.setAttribute('data-kind', mem.state);
		p = warn.appendChild(document.createElement('p'));
		p.textContent = '\u26a0 ' + (mem.state === 'rollback' ?
		    '\u65e5\u5fd7\u56de\u9000 \u00b7 Log rollback: this browser has seen a newer ' +
		    'checkpoint of this log than the server shows now' :
		    '\u65e5\u5fd7\u5206\u53c9 \u00b7 Log fork: the log showed this browser two ' +
		    'histories') + ' (' + mem.message + ').';
		[['remembered', mem.remembered], ['presented', mem.presented]].forEach(function (x) {
			pre = warn.appendChild(document.createElement('pre'));
			pre.className = 'evidence';
			pre.setAttribute('data-note', x[0]);
			pre.textContent = x[1];
		});
		out.parentNode.insertBefore(warn, out.nextSibling);
	}

	/* ---- SPEC 12: was this serial issued? (page side) ------------------
	 *
	 * From the fold of the verified bundle: a range set answers at once; a
	 * root set needs the server's proof, fetched from the unit's JSON and
	 * checked here (verifyIssuedProof).  A "never issued" the server did
	 * not show is added; one it showed is never taken away (the safe
	 * side), and a difference is marked on data-fold-issued.
	 */
	function checkIssued(f) {
		var d = out.dataset, serial = d.serial || '', roots;

		if (serial === '')
			return Promise.resolve();
		roots = (f.issued || []).filter(function (x) {
			return !x.withdrawn && x.root !== null;
		});
		return (roots.length === 0 ? Promise.resolve({}) :
		    json(location.pathname).then(function (j) {
			var answers = {}, proofs = j && Array.isArray(j.serialProofs) ?
			    j.serialProofs : [];

			return Promise.all(roots.map(function (x) {
				var p = proofs.filter(function (q) {
					return q && q.root === x.root;
				})[0];

				return verifyIssuedProof(serial, p, x.root, x.count).then(function (a) {
					if (a !== null)
						answers[x.root] = a;
				});
			})).then(function () {
				return answers;
			});
		}).catch(function () {
			/* No proofs at hand: the answer stays unknown. */
			return {};
		})).then(function (answers) {
			var issued = serialIssued(f, serial, answers), section, h2, p;

			out.setAttribute('data-fold-issued', String(issued));
			if (issued !== false || document.getElementById('never-issued') ||
			    !d.msgNeverIssued)
				return;
			section = document.createElement('section');
			section.className = 'card alert';
			section.id = 'never-issued';
			section.setAttribute('data-source', 'device');
			h2 = section.appendChild(document.createElement('h2'));
			h2.textContent = d.msgNeverIssued;
			p = section.appendChild(document.createElement('p'));
			p.textContent = d.msgNeverIssuedDetail || '';
			out.parentNode.insertBefore(section, out);
		});
	}

	/* SPEC 11 (completeness section above): #complete says it, or the
	 * device check fails. */
	function showCompleteness(bundle, report, vkey, rootPublic) {
		return checkCompleteness(bundle, report, vkey, rootPublic).then(function (c) {
			var line = document.getElementById('complete') || document.createElement('p');

			line.id = 'complete';
			line.className = 'device ' + (c.state === 'complete' ? 'ok' : 'bad');
			line.setAttribute('data-state', c.state);
			if (c.size)
				line.setAttribute('data-checkpoint', String(c.size));
			line.textContent = completenessText(c);
			if (!line.parentNode)
				out.parentNode.insertBefore(line, out.nextSibling);
			if (c.state !== 'complete')
				fail('not complete: ' + c.message + ' (' + c.code + ')');
		});
	}

	/*
	 * SPEC 9: with a witness policy (the server publishes it in /api/v1/log
	 * beside its log key, so on this page it rests on the operator's word
	 * as the key does; the standalone verifier pins both), the bundle's
	 * checkpoint must carry the quorum, and its newest cosignature must be
	 * at most WITNESS_MAX_AGE old: else "not verified", with data-reason
	 * "quorum" (or "cosignature") or "stale".  Resolves to the quorum, or
	 * null without a policy.
	 */
	var WITNESS_MAX_AGE = 3600;

	function checkWitnesses(bundle, log) {
		if (typeof log.witnessPolicy !== 'string')
			return Promise.resolve(null);
		return witnessQuorum(bundle.checkpoint, log.witnessPolicy, log.vkey).then(function (q) {
			if (!q.ok) {
				out.setAttribute('data-reason', q.code === 'quorum' ? 'quorum' : 'cosignature');
				fail('witnesses: ' + q.message + (q.detail ? ' (' + q.detail + ')' : ''));
			}
			out.setAttribute('data-witnesses', q.names.join(' '));
			if (Date.now() / 1000 - q.newest > WITNESS_MAX_AGE) {
				out.setAttribute('data-reason', 'stale');
				fail('stale: the newest witness cosignature is from ' +
				    new Date(q.newest * 1000).toISOString());
			}
			return q;
		});
	}

	function run() {
		var d = out.dataset, rootPublic, witnessed = null;

		show('', d.msgChecking);
		out.hidden = false;
		try {
			rootPublic = bytes(d.root);
		} catch (e) {
			show('bad', d.msgFail + ': ' + e.message);
			return;
		}
		Promise.all([json(d.bundle), json(d.log)]).then(function (r) {
			var bundle = r[0];

			if (!bundle || bundle.chain !== d.chain)
				fail('the bundle is for another lot');
			return verifyBundle(bundle, r[1].vkey, rootPublic).then(function (report) {
				var first = report.failures[0], events = report.events,
				    last = events.length ? events[events.length - 1].id : '';

				if (first)
					fail(first.subject + ' ' + first.position + ': ' + first.code +
					    ' (' + first.message + ')');
				if (events.length < Number(d.count) || !last ||
				    (events.length === Number(d.count) && last !== d.head))
					fail('the bundle does not hold the events shown on this page');
				return checkWitnesses(bundle, r[1]).then(function (q) {
					witnessed = q;
					return checkMemory(bundle.checkpoint, report.checkpoint, r[1].vkey,
					    consistencyFrom(''));
				}).then(function (mem) {
					if (mem.state === 'fork' || mem.state === 'rollback') {
						memoryAlert(mem);
						fail(mem.state + ': ' + mem.message);
					}
					return showCompleteness(bundle, report, r[1].vkey, rootPublic).then(function () {
						return mem;
					});
				}).then(function (mem) {
					show('ok', '\u2714 ' + d.msgOk + ' (' + report.signatures +
					    ' \u00d7 Ed25519, ' + report.proofs + ' \u00d7 RFC 6962' +
					    (witnessed ? ', ' + witnessed.names.length + ' \u00d7 cosignature/v1' :
					    '') + ')');
					out.setAttribute('data-memory', mem.state);
					out.setAttribute('data-state', applyFold(report.fold) ?
					    'verified' : 'mismatch');
					return checkIssued(report.fold);
				});
			});
		}).catch(function (e) {
			show('bad', '\u2716 ' + d.msgFail + ': ' + (e && e.message ? e.message : String(e)));
			out.setAttribute('data-state', 'failed');
			distrust();
		});
	}

	run();
})();
