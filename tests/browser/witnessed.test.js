/*
 * witnessed.test.js CONFIG.json - the consumer page's verifier with a
 * witness policy (SPEC 9, docs/PROTOCOL.md 10.2.1), in Debian's chromium.
 * The driver's server runs without witnesses, so this script plays a
 * server that has them: it answers /api/v1/log with a policy (a witness
 * made here, quorum of it) and the lot's bundle with its checkpoint
 * cosigned or not (C2SP tlog-cosignature cosignature/v1, signed here with
 * node's Ed25519):
 *   - no cosignature: not verified, data-reason "quorum";
 *   - a fresh cosignature: verified, the witness named;
 *   - a cosignature older than an hour: not verified, data-reason "stale";
 *   - a cosignature line that does not verify: not verified.
 * Prints "N passed, N failed".
 */
'use strict';

const crypto = require('crypto');
const { config, assert, equal, test, launch, run } = require('./lib');

const server = config.base;
const good = config.chains.good;
const WITNESS = 'witness.test/page';

let browser, log, bundle, witness;

function b64(buf) {
	return Buffer.from(buf).toString('base64');
}

/* A witness key: its vkey (C2SP signed-note, type 0x04) and signer. */
function makeWitness() {
	const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
	const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
	const id = crypto.createHash('sha256').update(Buffer.concat([
	    Buffer.from(WITNESS + '\n'), Buffer.from([4]), pub])).digest().subarray(0, 4);
	return {
		vkey: WITNESS + '+' + id.toString('hex') + '+' + b64(Buffer.concat([Buffer.from([4]), pub])),
		/* The cosignature line on note's body at time ts (seconds). */
		line(note, ts) {
			const body = note.slice(0, note.indexOf('\n\n') + 1);
			const stamp = Buffer.alloc(8);
			stamp.writeBigUInt64BE(BigInt(ts));
			const sig = crypto.sign(null, Buffer.from('cosignature/v1\ntime ' + ts + '\n' + body),
			    privateKey);
			return '\u2014 ' + WITNESS + ' ' + b64(Buffer.concat([id, stamp, sig])) + '\n';
		},
	};
}

function withCheckpoint(note) {
	return Object.assign({}, bundle, { checkpoint: note });
}

/* The consumer page of the good lot, the server playing one with a
 * witness policy and answering with b; #device-check's outcome. */
async function consumerPage(b) {
	const context = await browser.newContext({ locale: 'en' });
	const page = await context.newPage();
	const errors = [];

	page.on('pageerror', (e) => errors.push(e.message));
	await page.route('**/api/v1/log', (route) => route.fulfill({ status: 200,
	    contentType: 'application/json', body: JSON.stringify(Object.assign({}, log, {
		witnessPolicy: 'log ' + log.vkey + '\nwitness page ' + witness.vkey + '\nquorum page\n' })) }));
	await page.route('**/api/v1/bundles/**', (route) => route.fulfill({ status: 200,
	    contentType: 'application/json', body: JSON.stringify(b) }));
	await page.goto(server + good.path + '?lang=en');
	await page.waitForSelector('#device-check[data-state]', { timeout: 15000 });
	const result = {
		state: await page.getAttribute('#device-check', 'data-state'),
		reason: await page.getAttribute('#device-check', 'data-reason'),
		witnesses: await page.getAttribute('#device-check', 'data-witnesses'),
		text: await page.textContent('#device-check'),
		verdict: await page.getAttribute('#verdict', 'class'),
	};
	equal(errors.length, 0, 'page errors: ' + errors.join(' | '));
	await context.close();
	return result;
}

test('the driver\'s server has no policy and publishes none', async () => {
	assert(!('witnessPolicy' in log), JSON.stringify(log));
});

test('without the quorum the page does not verify', async () => {
	const r = await consumerPage(bundle);
	equal(r.state, 'failed', r.text);
	equal(r.reason, 'quorum', r.text);
	assert(r.text.includes('The witness quorum is not met'), r.text);
	assert(r.verdict.includes('bad'), 'the verdict card is not left green: ' + r.verdict);
});

test('with a fresh cosignature of the quorum it verifies', async () => {
	const now = Math.floor(Date.now() / 1000);
	const r = await consumerPage(withCheckpoint(bundle.checkpoint + witness.line(bundle.checkpoint, now)));
	equal(r.state, 'verified', r.text);
	equal(r.reason, null, r.text);
	equal(r.witnesses, 'page', 'the cosigner');
	assert(r.text.includes('1 \u00d7 cosignature/v1'), r.text);
});

test('a cosignature older than an hour is stale, not verified', async () => {
	const then = Math.floor(Date.now() / 1000) - 2 * 3600;
	const r = await consumerPage(withCheckpoint(bundle.checkpoint + witness.line(bundle.checkpoint, then)));
	equal(r.state, 'failed', r.text);
	equal(r.reason, 'stale', r.text);
});

test('a cosignature that does not verify fails', async () => {
	const now = Math.floor(Date.now() / 1000);
	const line = witness.line(bundle.checkpoint, now);
	/* The timestamp one second later than what was signed. */
	const raw = Buffer.from(line.split(' ')[2], 'base64');
	raw[11] ^= 1;
	const r = await consumerPage(withCheckpoint(bundle.checkpoint + '\u2014 ' + WITNESS + ' ' +
	    b64(raw) + '\n'));
	equal(r.state, 'failed', r.text);
	equal(r.reason, 'cosignature', r.text);
});

run('witnessed', {
	setup: async () => {
		browser = await launch();
		witness = makeWitness();
		log = await (await fetch(server + '/api/v1/log')).json();
		bundle = await (await fetch(server + '/api/v1/bundles/01/' + good.gtin + '/10/' +
		    encodeURIComponent(good.lot))).json();
	},
	teardown: () => browser.close(),
});
