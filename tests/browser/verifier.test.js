/*
 * verifier.test.js CONFIG.json - the standalone verifier (SPEC 10,
 * docs/PROTOCOL.md 10.4) hosted on a second origin (driver.py builds it
 * with web/verifier/build.sh and serves it with python3 -m http.server),
 * reading trace-server cross-origin, in Debian's chromium:
 *   - a good lot is verified, with the statuses of the fold, and a
 *     recalled lot shows the recall; the page loads nothing from any
 *     other host than its own and the server's data;
 *   - it fails a tampered bundle, a bundle under another root (the pinned
 *     root is what counts), and a server that swapped its log key (the
 *     pinned log key is what counts; /api/v1/log is never asked);
 *   - its memory (localStorage) catches a rollback to an older genuine
 *     bundle and a fork, visibly, with both signed checkpoints; the
 *     consumer page's own verifier catches the rollback too;
 *   - with a pinned witness policy the quorum is required and a bad
 *     cosignature fails (C2SP tlog-cosignature in JS);
 *   - unknown lots and unreachable servers are "unavailable";
 *   - each listed event carries the fold's flags (SPEC 8, SPEC 9): a close
 *     by a key later revoked with compromisedAt before it was received is
 *     "compromised", an event a correction withdrew "withdrawn", one
 *     logged after the checkpoint "pending", and no other is flagged;
 *   - Ed25519 without WebCrypto: the BigInt fallback and WebCrypto agree
 *     with every Wycheproof vector, and the whole page verifies with
 *     WebCrypto's Ed25519 removed.
 * Prints "N passed, N failed".
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { config, assert, equal, test, launch, run } = require('./lib');

const server = config.base;
const V = config.verifier;
const site = V.base;
const good = config.chains.good;
const recalled = config.chains.recalled;

let browser;

async function phone() {
	const context = await browser.newContext({ viewport: { width: 360, height: 740 },
	    locale: 'zh-CN', deviceScaleFactor: 2 });
	const page = await context.newPage();
	page.seen = { requests: [], errors: [] };
	page.on('request', (r) => page.seen.requests.push(r.url()));
	page.on('pageerror', (e) => page.seen.errors.push(e.message));
	return page;
}

function hashOf(chain, serial) {
	return '#01/' + chain.gtin + '/10/' + encodeURIComponent(chain.lot) +
	    (serial ? '/21/' + serial : '');
}

async function verdict(page, url) {
	if (url)
		await page.goto(url);
	await page.waitForSelector('#verdict:not([data-state="checking"])', { timeout: 20000 });
	return {
		state: await page.getAttribute('#verdict', 'data-state'),
		text: (await page.textContent('#verdict')).replace(/\s+/g, ' ').trim(),
	};
}

/* Answer the bundle request with body (an object). */
async function serveBundle(page, body) {
	await page.route('**/api/v1/bundles/**', (route) => route.fulfill({ status: 200,
	    contentType: 'application/json', headers: { 'Access-Control-Allow-Origin': '*' },
	    body: JSON.stringify(body) }));
}

async function shot(page, name) {
	fs.mkdirSync(config.screenshots, { recursive: true });
	await page.screenshot({ path: path.join(config.screenshots, name), fullPage: true });
}

function clean(page) {
	equal(page.seen.errors.length, 0, 'page errors: ' + page.seen.errors.join(' | '));
	const other = page.seen.requests.filter((u) => !u.startsWith(site + '/') &&
	    !u.startsWith(server + '/api/v1/'));
	equal(other.length, 0, 'requests to other hosts: ' + other.join(' '));
}

test('a good lot verifies on the second origin, statuses from the fold', async () => {
	const page = await phone();
	const v = await verdict(page, site + '/index.html' + hashOf(good, '000001'));
	equal(v.state, 'verified', 'verdict: ' + v.text);
	assert(v.text.includes('已验证'), 'Chinese first: ' + v.text);
	equal(await page.getAttribute('#status-recall', 'data-status'), 'none', 'recall');
	equal(await page.getAttribute('#status-customs', 'data-status'), 'released', 'customs');
	assert(['pass', 'none', 'fail'].includes(await page.getAttribute('#status-inspection',
	    'data-status')), 'inspection');
	assert(page.seen.requests.some((u) => u.startsWith(server + '/api/v1/bundles/')),
	    'the bundle came from the server cross-origin');
	assert(!page.seen.requests.some((u) => u.includes('/api/v1/log')), 'asked the server for its key');
	const overflow = await page.evaluate(() =>
		document.documentElement.scrollWidth - document.documentElement.clientWidth);
	assert(overflow <= 0, `the page scrolls sideways by ${overflow}px at 360px`);
	clean(page);
	await shot(page, 'verifier-good-360.png');
	await page.context().close();
});

test('a recalled lot shows the recall computed from the bundle', async () => {
	const page = await phone();
	const v = await verdict(page, site + '/index.html' + hashOf(recalled));
	equal(v.state, 'verified', 'verdict: ' + v.text);
	equal(await page.getAttribute('#status-recall', 'data-status'), 'open', 'recall');
	assert((await page.textContent('#status-recall')).includes('已召回'), 'recall text');
	clean(page);
	await page.context().close();
});

test('a truncated bundle fails as not complete (the lot index)', async () => {
	const page = await phone();
	const cut = JSON.parse(JSON.stringify(V.new));
	/* The operator hides the newest event: every signature and proof
	 * that is left still checks; only the lot index says what is gone. */
	cut.events.pop();
	await serveBundle(page, cut);
	const v = await verdict(page, site + '/index.html' + hashOf(good));
	equal(v.state, 'failed', 'verdict: ' + v.text);
	equal(await page.getAttribute('#detail-complete', 'data-state'), 'incomplete',
	    'completeness');
	assert(v.text.includes('truncated'), 'says why: ' + v.text);
	await page.context().close();
	/* And the bundle as served is complete. */
	const ok = await phone();
	const w = await verdict(ok, site + '/index.html' + hashOf(good));
	equal(w.state, 'verified', 'verdict: ' + w.text);
	equal(await ok.getAttribute('#detail-complete', 'data-state'), 'complete', 'complete');
	await ok.context().close();
});

test('a tampered bundle fails', async () => {
	const page = await phone();
	const bent = JSON.parse(JSON.stringify(V.new));
	const sig = bent.events[0].envelope.signatures[0];
	sig.sig = (sig.sig[0] === 'A' ? 'B' : 'A') + sig.sig.slice(1);
	await serveBundle(page, bent);
	const v = await verdict(page, site + '/index.html' + hashOf(good));
	equal(v.state, 'failed', 'verdict: ' + v.text);
	assert(v.text.includes('bad_signature'), v.text);
	equal(await page.isHidden('#status'), true, 'no statuses for a failed bundle');
	await page.context().close();
});

test('the pinned root counts: a server with a different root fails', async () => {
	const page = await phone();
	await page.route(site + '/config.json', async (route) => {
		const response = await route.fetch();
		const c = JSON.parse(await response.text());
		c.rootPublic = Buffer.alloc(32, 7).toString('base64');
		await route.fulfill({ response, body: JSON.stringify(c) });
	});
	const v = await verdict(page, site + '/index.html' + hashOf(good));
	equal(v.state, 'failed', 'verdict: ' + v.text);
	assert(v.text.includes('unknown_signer'), v.text);
	await page.context().close();
});

test('the pinned log key counts: a server that swapped its log key fails', async () => {
	const page = await phone();
	await serveBundle(page, V.swapped);
	await page.route('**/api/v1/log', (route) => route.fulfill({ status: 200,
	    contentType: 'application/json', headers: { 'Access-Control-Allow-Origin': '*' },
	    body: JSON.stringify({ vkey: V.swappedVkey }) }));
	const v = await verdict(page, site + '/index.html' + hashOf(good));
	equal(v.state, 'failed', 'verdict: ' + v.text);
	assert(v.text.includes('bad_checkpoint'), v.text);
	assert(!page.seen.requests.some((u) => u.includes('/api/v1/log')), 'asked the server for its key');
	/* The same swapped bundle verifies under the swapped key: the check
	 * can pass, it is the pinned key that refuses it. */
	const ok = await page.evaluate(async (a) => {
		const T = window.TraceVerify;
		const c = await (await fetch('config.json')).json();
		const r = await T.verifyBundle(a.bundle, a.vkey, T.bytes(c.rootPublic));
		return r.failures.length;
	}, { bundle: V.swapped, vkey: V.swappedVkey });
	equal(ok, 0, 'the swapped bundle under its own key');
	await page.context().close();
});

test('memory: a rollback to an older genuine bundle is caught', async () => {
	const page = await phone();
	let v = await verdict(page, site + '/index.html' + hashOf(good));
	equal(v.state, 'verified', 'first visit: ' + v.text);
	equal(await page.isHidden('#memory-alert'), true, 'no alert at first');
	/* What the first visit remembered (the log may have grown since the
	 * driver took its bundles: other suites write to it). */
	const seen = await page.evaluate(() => Object.keys(localStorage)
	    .filter((k) => k.startsWith('trace.checkpoint.')).map((k) => localStorage[k]));
	equal(seen.length, 1, 'one log remembered');
	await serveBundle(page, V.old);
	await page.reload();
	v = await verdict(page);
	equal(v.state, 'failed', 'after a rollback: ' + v.text);
	equal(await page.getAttribute('#memory-alert', 'data-kind'), 'rollback', 'memory alert');
	assert(await page.isVisible('#memory-alert'), 'the alert is visible');
	await shot(page, 'verifier-rollback-360.png');
	equal(await page.textContent('pre[data-note="presented"]'), V.old.checkpoint, 'presented note');
	equal(await page.textContent('pre[data-note="remembered"]'), seen[0], 'remembered note');
	const evidence = await page.evaluate(() => Object.keys(localStorage)
	    .filter((k) => k.startsWith('trace.evidence.')).map((k) => JSON.parse(localStorage[k])));
	equal(evidence.length, 1, 'evidence kept');
	equal(evidence[0].kind, 'rollback', 'evidence kind');
	await page.context().close();
});

test('memory: a fork (another tree of the same size) is caught', async () => {
	const page = await phone();
	const key = 'trace.checkpoint.' + V.vkey.split('+')[0] + '+' + V.vkey.split('+')[1];
	await page.addInitScript((a) => {
		if (!localStorage.getItem(a.key))
			localStorage.setItem(a.key, a.note);
	}, { key, note: V.forked });
	await serveBundle(page, V.new);
	const v = await verdict(page, site + '/index.html' + hashOf(good));
	equal(v.state, 'failed', 'verdict: ' + v.text);
	equal(await page.getAttribute('#memory-alert', 'data-kind'), 'fork', 'memory alert');
	await page.context().close();
});

test('memory: a tree that grew is proved consistent and remembered', async () => {
	const page = await phone();
	const key = 'trace.checkpoint.' + V.vkey.split('+')[0] + '+' + V.vkey.split('+')[1];
	await page.addInitScript((a) => {
		if (!sessionStorage.getItem('seeded')) {
			localStorage.setItem(a.key, a.note);
			sessionStorage.setItem('seeded', '1');
		}
	}, { key, note: V.old.checkpoint });
	await serveBundle(page, V.new);
	let v = await verdict(page, site + '/index.html' + hashOf(good));
	equal(v.state, 'verified', 'grew: ' + v.text);
	assert((await page.textContent('#detail-memory')).includes('(grew)'), 'memory: grew');
	assert(page.seen.requests.some((u) => u.startsWith(server + '/api/v1/proofs/consistency')),
	    'a consistency proof was fetched cross-origin');
	equal(await page.evaluate((k) => localStorage.getItem(k), key), V.new.checkpoint,
	    'the larger checkpoint is remembered');
	/* A remembered tree the larger one does not extend: a fork. */
	await page.evaluate((a) => localStorage.setItem(a.key, a.note),
	    { key, note: V.forkedSmaller });
	await page.reload();
	v = await verdict(page);
	equal(v.state, 'failed', 'forked before it grew: ' + v.text);
	equal(await page.getAttribute('#memory-alert', 'data-kind'), 'fork', 'memory alert');
	await page.context().close();
});

test('RFC 9162 consistency in verify.js agrees with the RFC 6962 vectors', async () => {
	const page = await phone();
	await verdict(page, site + '/index.html' + hashOf(good));
	const wrong = await page.evaluate(async (cases) => {
		const T = window.TraceVerify, out = [];
		const b = (x) => { try { return T.bytes(x); } catch (e) { return new Uint8Array(0); } };
		for (const c of cases) {
			const ok = await T.consistency(c.size1, c.size2, b(c.root1 || ''), b(c.root2 || ''),
			    (c.proof || []).map(b));
			if (ok === c.wantErr)
				out.push(c.name + ' (' + c.desc + ')');
		}
		return out;
	}, V.consistency);
	assert(V.consistency.length >= 90, 'vectors: ' + V.consistency.length);
	equal(wrong.length, 0, 'disagree with the vectors: ' + wrong.join(', '));
	await page.context().close();
});

test('the consumer page remembers too and catches the rollback', async () => {
	const page = await phone();
	await page.goto(server + good.path + '?lang=en');
	await page.waitForSelector('#device-check[data-state]', { timeout: 15000 });
	equal(await page.getAttribute('#device-check', 'data-state'), 'verified', 'first visit');
	equal(await page.getAttribute('#device-check', 'data-memory'), 'first', 'remembered');
	await page.route('**/api/v1/bundles/**', (route) => route.fulfill({ status: 200,
	    contentType: 'application/json', body: JSON.stringify(V.old) }));
	await page.reload();
	await page.waitForSelector('#device-check[data-state]', { timeout: 15000 });
	equal(await page.getAttribute('#device-check', 'data-state'), 'failed', 'after a rollback');
	equal(await page.getAttribute('#memory-alert', 'data-kind'), 'rollback', 'memory alert');
	assert(await page.isVisible('#memory-alert'), 'the alert is visible');
	await page.context().close();
});

test('a pinned witness policy requires the quorum', async () => {
	const page = await phone();
	const url = site + '/quorum/index.html' + hashOf(good);
	let v = await verdict(page, url);
	equal(v.state, 'failed', 'without cosignatures: ' + v.text);
	assert(v.text.includes('quorum'), v.text);
	await serveBundle(page, V.cosigned);
	await page.reload();
	v = await verdict(page);
	equal(v.state, 'verified', 'cosigned: ' + v.text);
	assert((await page.textContent('#detail-witnesses')).includes('w1'), 'witness named');
	await page.unroute('**/api/v1/bundles/**');
	await serveBundle(page, V.badCosigned);
	await page.reload();
	v = await verdict(page);
	equal(v.state, 'failed', 'a cosignature that does not verify: ' + v.text);
	await page.context().close();
});

test('unknown lots, bad fragments and unreachable servers are unavailable', async () => {
	const page = await phone();
	let v = await verdict(page, site + '/index.html#01/' + good.gtin + '/10/NOSUCHLOT');
	equal(v.state, 'unavailable', 'unknown lot: ' + v.text);
	await page.goto('about:blank');
	v = await verdict(page, site + '/index.html#01/123/10/X');
	equal(v.state, 'unavailable', 'bad fragment: ' + v.text);
	await page.goto('about:blank');
	v = await verdict(page, site + '/index.html?server=http://127.0.0.1:9' + hashOf(good));
	equal(v.state, 'unavailable', 'unreachable: ' + v.text);
	await page.context().close();
});

test('Ed25519: WebCrypto and the BigInt fallback agree with Wycheproof', async () => {
	const page = await phone();
	await verdict(page, site + '/index.html' + hashOf(good));
	const wrong = await page.evaluate(async (cases) => {
		const T = window.TraceVerify;
		const h = (s) => new Uint8Array((s.match(/../g) || []).map((b) => parseInt(b, 16)));
		const out = [];
		for (const c of cases) {
			const web = await T.ed25519(h(c.pk), h(c.sig), h(c.msg));
			const js = await T.ed25519Js(h(c.pk), h(c.sig), h(c.msg));
			/* ed25519Js is what ed25519() calls after its own checks
			 * (S < L, canonical A and R): the fallback path is both. */
			if (web !== c.valid)
				out.push('WebCrypto tcId ' + c.id);
			if ((js && T.ed25519Precheck(h(c.pk), h(c.sig))) !== c.valid)
				out.push('fallback tcId ' + c.id);
		}
		return out;
	}, V.wycheproof);
	assert(V.wycheproof.length >= 150, 'vectors: ' + V.wycheproof.length);
	equal(wrong.length, 0, 'disagree with Wycheproof: ' + wrong.join(', '));
	await page.context().close();
});

test('Ed25519: a key or an R of small order is refused on both paths, as in C', async () => {
	const page = await phone();
	await verdict(page, site + '/index.html' + hashOf(good));
	const wrong = await page.evaluate(async () => {
		const T = window.TraceVerify;
		const h = (s) => new Uint8Array((s.match(/../g) || []).map((b) => parseInt(b, 16)));
		/* Each y of small order with either sign bit (test_crypto.c
		 * test_small_order_refused).  R = B and S = 1 satisfy the
		 * equation whenever [k]A = O (always for the identity, 1 in 8
		 * messages at worst); A = R = the point and S = 0 always for
		 * the identity. */
		const points = [
			'0000000000000000000000000000000000000000000000000000000000000000',
			'0000000000000000000000000000000000000000000000000000000000000080',
			'0100000000000000000000000000000000000000000000000000000000000000',
			'0100000000000000000000000000000000000000000000000000000000000080',
			'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
			'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
			'26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
			'26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
			'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
			'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa'];
		const base = '5866666666666666666666666666666666666666666666666666666666666666';
		const one = '01' + '00'.repeat(31), zero = '00'.repeat(32);
		const enc = new TextEncoder();
		const out = [];
		let equationHolds = 0;
		for (const p of points) {
			const cases = [];
			for (let m = 0; m < 64; m++)
				cases.push([h(p), h(base + one), enc.encode('m' + m)]);
			cases.push([h(p), h(p + zero), enc.encode('x')]);
			for (const [pk, sig, msg] of cases) {
				const js = await T.ed25519Js(pk, sig, msg);
				equationHolds += js ? 1 : 0;
				if (await T.ed25519(pk, sig, msg))
					out.push('WebCrypto path accepts key ' + p);
				if (js && T.ed25519Precheck(pk, sig))
					out.push('fallback accepts key ' + p);
			}
		}
		return { out, equationHolds };
	});
	/* The equation alone holds for many of them: the refusal is the
	 * precheck's. */
	assert(wrong.equationHolds >= 64, 'the equation held ' + wrong.equationHolds + ' times');
	equal(wrong.out.length, 0, wrong.out.slice(0, 5).join(', '));
	await page.context().close();
});

test('without WebCrypto Ed25519 the whole page verifies with the fallback', async () => {
	const page = await phone();
	await page.addInitScript(() => {
		const subtle = window.crypto.subtle;
		const named = (a) => (typeof a === 'string' ? a : a && a.name) === 'Ed25519';
		const importKey = subtle.importKey.bind(subtle), verify = subtle.verify.bind(subtle);
		window.__ed25519Refused = 0;
		subtle.importKey = function (format, data, alg, ...rest) {
			if (named(alg)) {
				window.__ed25519Refused++;
				return Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
			}
			return importKey(format, data, alg, ...rest);
		};
		subtle.verify = function (alg, ...rest) {
			if (named(alg))
				return Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
			return verify(alg, ...rest);
		};
	});
	let v = await verdict(page, site + '/index.html' + hashOf(recalled));
	equal(v.state, 'verified', 'verdict without WebCrypto Ed25519: ' + v.text);
	equal(await page.getAttribute('#status-recall', 'data-status'), 'open', 'recall');
	assert(await page.evaluate(() => window.__ed25519Refused) > 0, 'WebCrypto was asked');
	/* The fallback still refuses a changed signature. */
	await page.goto('about:blank');
	const bent = JSON.parse(JSON.stringify(V.new));
	const sig = bent.events[1].envelope.signatures[0];
	sig.sig = sig.sig.slice(0, 10) + (sig.sig[10] === 'A' ? 'B' : 'A') + sig.sig.slice(11);
	await serveBundle(page, bent);
	v = await verdict(page, site + '/index.html' + hashOf(good));
	equal(v.state, 'failed', 'a changed signature: ' + v.text);
	/* And the consumer page, same device. */
	await page.unroute('**/api/v1/bundles/**');
	await page.goto(server + good.path + '?lang=en');
	await page.waitForSelector('#device-check[data-state]', { timeout: 15000 });
	equal(await page.getAttribute('#device-check', 'data-state'), 'verified', 'consumer page');
	await page.context().close();
});

/* The listed events: [{seq, flags, text of each flag}], in page order. */
async function listed(page) {
	return page.$$eval('#events li', (lis) => lis.map((li) => ({
		seq: Number(li.getAttribute('data-seq')),
		flags: li.getAttribute('data-flags'),
		marks: Array.from(li.querySelectorAll('.flag')).map((m) => ({
			flag: m.getAttribute('data-flag'), cls: m.className, text: m.textContent })),
	})));
}

/* Exactly the events of want ({seq: flags}) are flagged, the others not. */
function flagged(events, count, want) {
	equal(events.length, count, 'events listed');
	events.forEach((e, i) => {
		equal(e.seq, i, 'listed in order');
		equal(e.flags, want[i] || '', 'the flags of seq ' + i);
		equal(e.marks.map((m) => m.flag).join(' '), e.flags, 'a mark per flag at seq ' + i);
		e.marks.forEach((m) => equal(m.cls, 'flag ' + m.flag, 'class of ' + m.flag));
	});
}

test('a statement signed with a key reported compromised is flagged, from the bundle', async () => {
	const lot = V.flags, page = await phone();
	const v = await verdict(page, site + '/index.html' + hashOf(lot));
	/* A compromised key never makes the chain fail (SPEC 8). */
	equal(v.state, 'verified', 'verdict: ' + v.text);
	/* The thief's close counts for nothing: the recall stays open. */
	equal(await page.getAttribute('#status-recall', 'data-status'), 'open', 'recall');
	const events = await listed(page);
	flagged(events, 7, { 3: 'withdrawn', 5: 'compromised' });
	const stolen = events[5].marks[0].text;
	assert(stolen.includes('使用已报告泄露的密钥签名') &&
	    stolen.includes('Signed with a key reported compromised') &&
	    stolen.includes('changes nothing'), 'the compromised close: ' + stolen);
	assert(events[3].marks[0].text.includes('seq 4'), 'withdrawn by: ' + events[3].marks[0].text);
	/* Nothing came from the server's views: only its bundle was read. */
	assert(!page.seen.requests.some((u) => u.startsWith(server + '/') &&
	    !u.startsWith(server + '/api/v1/bundles/')), 'read more than the bundle: ' +
	    page.seen.requests.join(' '));
	clean(page);
	await shot(page, 'verifier-flags-360.png');
	await page.context().close();
});

test('a statement logged after the checkpoint is flagged pending', async () => {
	const lot = V.flags, page = await phone();
	await serveBundle(page, lot.pending);
	const v = await verdict(page, site + '/index.html' + hashOf(lot));
	equal(v.state, 'verified', 'verdict: ' + v.text);
	const events = await listed(page);
	flagged(events, 7, { 3: 'withdrawn', 5: 'compromised', 6: 'pending' });
	const pending = events[6].marks[0].text;
	assert(pending.includes('等待见证') && pending.includes('Awaiting witnesses') &&
	    pending.includes('counted now'), 'the pending arrival: ' + pending);
	clean(page);
	await page.context().close();
});

run('verifier', {
	setup: async () => { browser = await launch(); },
	teardown: () => browser.close(),
});
