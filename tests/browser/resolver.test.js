/*
 * resolver.test.js - compressed GS1 Digital Link URIs checked with GS1's own
 * toolkit (digital-link.js): the URIs the toolkit compresses resolve to the
 * same answer as the uncompressed ones, the server's compressed QR codes
 * (zbarimg) hold exactly what the toolkit writes and decompress with the
 * toolkit to the unit's URI, and a page on another origin reads a
 * compressed URI through CORS in chromium headless (the Link header with
 * owl:sameAs exposed to it).  driver.py passes the seeded chains.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { config, assert, equal, test, launch, run } = require('./lib');
const { DigitalLink, Utils } = require('digital-link.js');

const base = config.base;
const chains = config.chains;

/* Serials without leading zeros: the toolkit's decompressor parses an
 * all-digit value as a number and drops them (the server keeps them). */
const units = [
	[chains.good.path, ''],
	[chains.good.path, '/21/7'],
	[chains.good.path, '/21/SN-12_ab'],
	[chains.partial.path, '/21/150'],
	[chains.fresh.path, '/21/Q1'],
];

async function json(url) {
	const r = await fetch(url, { headers: { Accept: 'application/json' } });
	equal(r.status, 200, 'status of ' + url);
	const doc = await r.json();
	/* A unit's scan counter moves with every view. */
	delete doc.scans;
	return { doc, link: r.headers.get('link') || '' };
}

test('URIs the toolkit compresses get the uncompressed answer', async () => {
	for (const [lot, unit] of units) {
		const plain = base + lot + unit;
		const compressed = Utils.compressWebUri(plain);
		assert(compressed.length < plain.length, 'not shorter: ' + compressed);
		const a = await json(compressed), b = await json(plain);
		equal(JSON.stringify(a.doc), JSON.stringify(b.doc), 'answer for ' + compressed);
		assert(a.link.includes(`<${plain}>; rel="owl:sameAs"`), 'sameAs: ' + a.link);
		assert(DigitalLink(plain).isValid(), 'sameAs URI invalid: ' + plain);
	}
});

test('compressed QR codes hold what the toolkit writes', async () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-qr-'));
	try {
		for (const [lot, unit] of units.filter((u) => u[1] !== '')) {
			const plain = base + lot + unit;
			const r = await fetch(base + '/qr' + lot + unit + '.png?compressed=1');
			equal(r.status, 200, 'QR status');
			const file = path.join(dir, 'qr.png');
			fs.writeFileSync(file, Buffer.from(await r.arrayBuffer()));
			const text = execFileSync('zbarimg', ['-q', '--raw', file],
			    { encoding: 'utf8' }).trim();
			equal(text, Utils.compressWebUri(plain), 'compressed QR of ' + plain);
			equal(Utils.decompressWebUri(text), plain, 'toolkit decompression');
		}
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
});

test('a page on another origin reads a compressed URI (CORS)', async () => {
	/* Local Network Access would ask the user before a page on localhost
	 * reads 127.0.0.1: no user here to ask. */
	const browser = await launch(['--disable-features=LocalNetworkAccessChecks']);
	try {
		const page = await browser.newPage();
		page.on('console', (m) => console.log('        console: ' + m.text()));
		/* Another origin that is still loopback (chromium refuses a
		 * public origin's requests to a loopback address outright):
		 * localhost instead of 127.0.0.1, same port. */
		const other = base.replace('//127.0.0.1:', '//localhost:');
		assert(other !== base, 'base is not http://127.0.0.1:PORT: ' + base);
		/* A page of its own there (the server's pages forbid requests
		 * to other origins in their CSP, as they should). */
		await page.route(other + '/app', (route) => route.fulfill({
			status: 200, contentType: 'text/html',
			body: '<!doctype html><title>app</title>' }));
		await page.goto(other + '/app');
		const plain = base + chains.good.path + '/21/42';
		const target = Utils.compressWebUri(plain);
		const got = await page.evaluate(async (url) => {
			/* A custom-free request with Accept-Language: "ko-KR;q=0.9" is
			 * not CORS-safelisted in every browser; the preflight, when
			 * sent, must allow it. */
			const r = await fetch(url, { headers: { Accept: 'application/json',
			    'Accept-Language': 'ko' } });
			return { status: r.status, link: r.headers.get('link'),
			    lot: (await r.json()).lot };
		}, target);
		equal(got.status, 200, 'cross-origin status');
		equal(got.lot, 'L2311A', 'cross-origin body');
		assert(got.link && got.link.includes(`<${plain}>; rel="owl:sameAs"`),
		    'Link not exposed: ' + got.link);
	} finally {
		await browser.close();
	}
});

run('resolver');
