/*
 * complete.test.js CONFIG.json - "complete as of checkpoint N" in the
 * browser (SPEC 11; web/verify.js's completeness section, a port of
 * libtrace/bundleindex.c), against the server and chains driver.py seeded:
 *   - the consumer page of a lot says "Complete as of checkpoint N" in
 *     #complete (data-state "complete", data-checkpoint N = the bundle's
 *     checkpoint size) and still verifies;
 *   - a truncated chain (the page and the bundle both without the newest
 *     event, as after an LTRIM in Redis) and a hidden recall (the recalled
 *     lot without its recall) fail the page with "truncated";
 *   - TraceVerify.checkCompleteness over edited bundles: a stale index
 *     statement, a forged absence proof, a hidden revocation (a key
 *     proof whose key has more entries than shown), a missing index, and an
 *     unknown lot's 404 with its absence proof ("absent").
 * Prints "N passed, N failed".
 */
'use strict';

const { config, assert, equal, test, launch, run } = require('./lib');

const base = config.base;
const chains = config.chains;

let browser;

async function newPage() {
	const context = await browser.newContext({ viewport: { width: 360, height: 740 },
	    locale: 'en-US' });
	const page = await context.newPage();
	page.errors = [];
	page.on('pageerror', (e) => page.errors.push(e.message));
	return page;
}

async function bundleOf(chain) {
	const r = await fetch(base + '/api/v1/bundles/01/' + chain.gtin + '/10/' +
	    encodeURIComponent(chain.lot));
	return { status: r.status, body: await r.json() };
}

/* checkCompleteness of bundle, run in the page with the log's vkey and the
 * page's pinned root key. */
async function completeness(page, bundle) {
	return page.evaluate(async (b) => {
		const d = document.getElementById('device-check').dataset;
		const log = await (await fetch('/api/v1/log')).json();
		const root = TraceVerify.bytes(d.root);
		const report = await TraceVerify.verifyBundle(b, log.vkey, root);
		const c = await TraceVerify.checkCompleteness(b, report, log.vkey, root);
		return { state: c.state, code: c.code || '', message: c.message || '', size: c.size,
		    text: TraceVerify.completenessText(c) };
	}, bundle);
}

test('the consumer page says complete as of the bundle\'s checkpoint', async () => {
	const page = await newPage();
	const { body } = await bundleOf(chains.good);
	const size = Number(body.checkpoint.split('\n')[1]);

	await page.goto(base + chains.good.path + '?lang=en');
	await page.waitForSelector('#device-check[data-state]', { timeout: 15000 });
	equal(await page.getAttribute('#device-check', 'data-state'), 'verified', 'device check');
	equal(await page.getAttribute('#complete', 'data-state'), 'complete', '#complete');
	const n = Number(await page.getAttribute('#complete', 'data-checkpoint'));
	assert(n >= size, `checkpoint ${n} < ${size}`);
	const text = await page.textContent('#complete');
	assert(text.includes('Complete as of checkpoint ' + n), text);
	equal(page.errors.length, 0, 'page errors: ' + page.errors.join(' | '));
	await page.context().close();
});

/* The page and its bundle both lose the newest event: what LTRIM of the
 * chain in Redis does to both. */
async function truncatedPage(chain) {
	const page = await newPage();
	let dropped = null, pageEdited = false;

	await page.route('**/api/v1/bundles/**', async (route) => {
		const response = await route.fetch();
		const b = JSON.parse(await response.text());
		dropped = b.events.pop();
		await route.fulfill({ response, body: JSON.stringify(b) });
	});
	const { body } = await bundleOf(chain);
	const ids = body.events.map((e) => e.envelope).length;
	/* Registered last, so asked first: the bundle's URL ends with the
	 * chain's path too, and goes on to the route above. */
	await page.route('**' + chain.path + '*', async (route) => {
		if (route.request().url().includes('/api/'))
			return route.fallback();
		const response = await route.fetch();
		let html = await response.text();
		const m = /data-head="([0-9a-f]{64})"/.exec(html);
		if (m === null || chain.ids[chain.ids.length - 1] !== m[1])
			return route.fulfill({ response, body: html });
		html = html.replace('data-head="' + m[1] + '"', 'data-head="' +
		    chain.ids[chain.ids.length - 2] + '"').replace('data-count="' + ids + '"',
		    'data-count="' + (ids - 1) + '"');
		pageEdited = true;
		await route.fulfill({ response, body: html });
	});
	await page.goto(base + chain.path + '?lang=en');
	await page.waitForSelector('#device-check[data-state]', { timeout: 15000 });
	assert(dropped !== null, 'the bundle was fetched');
	assert(pageEdited, 'the page lost its newest event');
	const result = {
		state: await page.getAttribute('#device-check', 'data-state'),
		complete: await page.getAttribute('#complete', 'data-state'),
		text: await page.textContent('#complete'),
		verdict: await page.getAttribute('#verdict', 'class'),
	};
	await page.context().close();
	return result;
}

test('a truncated chain fails the page: truncated', async () => {
	const r = await truncatedPage(chains.good);
	equal(r.state, 'failed', 'device check');
	equal(r.complete, 'incomplete', '#complete');
	assert(/NOT complete as of checkpoint \d+: the index commits to \d+ events .*\(truncated\)/
	    .test(r.text), r.text);
	equal(r.verdict, 'card verdict bad', 'the verdict is no longer "genuine"');
});

test('a hidden recall fails the page: truncated', async () => {
	const r = await truncatedPage(chains.recalled);
	equal(r.state, 'failed', 'device check');
	equal(r.complete, 'incomplete', '#complete');
	assert(r.text.includes('a recall may be hidden') && r.text.includes('(truncated)'), r.text);
});

test('edited bundles: stale index, forged absence, hidden revocation, no index', async () => {
	const page = await newPage();
	await page.goto(base + chains.good.path + '?lang=en');
	await page.waitForSelector('#device-check[data-state]', { timeout: 15000 });
	const { body } = await bundleOf(chains.good);
	const copy = () => JSON.parse(JSON.stringify(body));

	let r = await completeness(page, copy());
	equal(r.state, 'complete', 'untouched: ' + r.text);

	let b = copy();
	b.index.statement.logIndex -= 1;
	r = await completeness(page, b);
	equal(r.code, 'stale_index', 'stale: ' + r.text);

	b = copy();
	b.index.lot = Buffer.from([1, 1, 0, 0]).toString('base64');
	r = await completeness(page, b);
	equal(r.code, 'index_proof_mismatch', 'forged absence: ' + r.text);

	/* A key's proof for another key (its entries differ): the index and
	 * the bundle disagree about that key. */
	b = copy();
	assert(b.index.keys.length >= 2, 'two keys');
	b.index.keys[0].proof = b.index.keys[1].proof;
	r = await completeness(page, b);
	equal(r.state, 'incomplete', 'swapped key proof: ' + r.text);

	b = copy();
	b.keys = b.keys.filter((k) => !k.envelope || JSON.parse(Buffer.from(
	    k.envelope.payload, 'base64').toString()).keyid !== b.index.keys[0].keyid);
	r = await completeness(page, b);
	equal(r.state, 'incomplete', 'entries of a key left out: ' + r.text);
	assert(r.code === 'key_entries_hidden', r.code + ': ' + r.text);

	b = copy();
	delete b.index;
	r = await completeness(page, b);
	equal(r.state, 'unknown', 'no index');
	equal(r.code, 'no_index', 'no index');
	await page.context().close();
});

test('an unknown lot: 404 with an absence proof the browser checks', async () => {
	const page = await newPage();
	await page.goto(base + chains.good.path + '?lang=en');
	await page.waitForSelector('#device-check[data-state]', { timeout: 15000 });
	const { status, body } = await bundleOf({ gtin: chains.good.gtin, lot: 'NO-SUCH-LOT-9' });
	equal(status, 404, 'status');
	assert(body.index, 'the 404 carries the index');
	const r = await completeness(page, body);
	equal(r.state, 'absent', 'absent: ' + r.text);
	assert(r.text.includes('unknown to the log as of checkpoint'), r.text);
	await page.context().close();
});

run('complete', {
	setup: async () => { browser = await launch(); },
	teardown: () => browser.close(),
});
