/*
 * blobs.test.js - an uploaded document can never run script on the
 * server's origin (SPEC 13).  An HTML or SVG file is refused at upload,
 * however it is labelled; a file that passes the magic-byte check but
 * carries HTML after it (a PNG or PDF polyglot) is stored, and then served
 * so that chromium runs none of it, navigated to directly or framed by a
 * page of the server's own origin.  A control page
 * without those headers runs the same script, so the detector works.
 *
 * The uploader is a real key: trace-agent makes and enrolls it with the
 * root key driver.py passes; uploads are signed here with node's Ed25519.
 */
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { config, assert, equal, test, launch, run } = require('./lib');

const base = config.base;

/* ---- an enrolled inspector key ---- */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-blobs-'));
execFileSync(config.agent, ['key', 'gen', '--name', 'uploader', '--out', dir],
    { stdio: 'pipe' });
/* An org of its own (SPEC 8: keys are enrolled into registered orgs). */
execFileSync(config.agent, ['key', 'org', '--admin', config.rootKey, '--org',
    'blobs-test.ccic', '--name-zh', '中国检验认证集团韩国公司', '--name-en',
    'CCIC Korea', '--role', 'inspector', '--gtin-prefix', '880', '--server', base],
    { stdio: 'pipe' });
execFileSync(config.agent, ['key', 'enroll', '--admin', config.rootKey, '--pub',
    path.join(dir, 'uploader.pub'), '--role', 'inspector', '--org',
    'blobs-test.ccic', '--gtin-prefix', '880', '--server', base], { stdio: 'pipe' });
const keyFile = JSON.parse(fs.readFileSync(path.join(dir, 'uploader.key'), 'utf8'));
/* RFC 8410: PKCS #8 of an Ed25519 seed is this prefix and the 32 bytes. */
const privateKey = crypto.createPrivateKey({
	key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'),
	    Buffer.from(keyFile.secret, 'base64')]), format: 'der', type: 'pkcs8' });

function pae(type, payload) {
	return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ` +
	    `${payload.length} `), payload]);
}

function uploadHeader(data, media) {
	const type = 'application/vnd.trace.blob.v1+json';
	const payload = Buffer.from(JSON.stringify({ v: 1,
		sha256: crypto.createHash('sha256').update(data).digest('hex'),
		size: data.length, media,
		time: new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
		signer: keyFile.keyid }));
	const sig = crypto.sign(null, pae(type, payload), privateKey);
	const env = { payloadType: type, payload: payload.toString('base64'),
		signatures: [{ keyid: keyFile.keyid, sig: sig.toString('base64') }] };
	return Buffer.from(JSON.stringify(env)).toString('base64');
}

function sha(data) {
	return crypto.createHash('sha256').update(data).digest('hex');
}

async function upload(data, media) {
	const r = await fetch(`${base}/api/v1/blobs/${sha(data)}`, { method: 'PUT',
		headers: { 'Trace-Upload': uploadHeader(data, media) }, body: data });
	return { status: r.status, body: await r.json() };
}

/* What the script in every hostile file does, if it ever runs. */
const SCRIPT = "<script>console.log('PWNED ' + document.domain);" +
    "document.title = 'PWNED'; try { parent.document.title = 'PWNED'; } catch (e) {}" +
    "alert('PWNED')</script>";
const HTML = Buffer.from(`<!doctype html><html><body>${SCRIPT}</body></html>`);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' +
    `<script>console.log('PWNED svg');alert('PWNED')</script></svg>`);
const PNG_POLYGLOT = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'),
    Buffer.from(`<html><body>${SCRIPT}</body></html>`)]);
const PDF_POLYGLOT = Buffer.from(`%PDF-1.4\n<html><body>${SCRIPT}</body></html>\n%%EOF\n`);

async function withBrowser(fn) {
	const browser = await launch();
	try {
		const context = await browser.newContext({ acceptDownloads: true });
		const page = await context.newPage();
		const seen = [];
		page.on('console', (m) => seen.push(m.text()));
		page.on('dialog', (d) => { seen.push('dialog ' + d.message()); d.dismiss(); });
		context.on('page', (p) => p.on('console', (m) => seen.push(m.text())));
		await fn(page, seen);
	} finally {
		await browser.close();
	}
}

const ran = (seen) => seen.some((s) => s.includes('PWNED'));

test('HTML and SVG are refused at upload, however labelled', async () => {
	for (const data of [HTML, SVG])
		for (const media of ['text/html', 'image/svg+xml', 'image/png',
		    'application/pdf', 'image/jpeg']) {
			const r = await upload(data, media);
			equal(r.status, 415, `upload of ${data.slice(0, 5)} as ${media}`);
			const g = await fetch(`${base}/api/v1/blobs/${sha(data)}`);
			equal(g.status, 404, 'nothing stored');
		}
});

test('the detector sees script run on a page without those headers', async () => {
	await withBrowser(async (page, seen) => {
		await page.route(base + '/control', (route) => route.fulfill({
			status: 200, contentType: 'text/html', body: HTML.toString() }));
		await page.goto(base + '/control');
		await page.waitForTimeout(300);
		assert(ran(seen), 'the control page did not run its script: ' + seen);
	});
});

test('polyglots are stored, then served so that no script runs', async () => {
	const png = await upload(PNG_POLYGLOT, 'image/png');
	equal(png.status, 201, 'PNG polyglot upload');
	const pdf = await upload(PDF_POLYGLOT, 'application/pdf');
	equal(pdf.status, 201, 'PDF polyglot upload');
	for (const data of [PNG_POLYGLOT, PDF_POLYGLOT]) {
		const r = await fetch(`${base}/api/v1/blobs/${sha(data)}`);
		equal(r.headers.get('x-content-type-options'), 'nosniff', 'nosniff');
		assert(r.headers.get('content-security-policy').startsWith('sandbox'), 'CSP sandbox');
	}
	await withBrowser(async (page, seen) => {
		/* Navigated to directly: an image (or a download), never a page. */
		const img = `${base}/api/v1/blobs/${sha(PNG_POLYGLOT)}`;
		await page.goto(img);
		await page.waitForTimeout(300);
		assert(!ran(seen), 'script ran in the PNG navigated to: ' + seen);
		assert(await page.title() !== 'PWNED', 'title changed');
		let downloaded = false;
		page.once('download', () => { downloaded = true; });
		try {
			await page.goto(`${base}/api/v1/blobs/${sha(PDF_POLYGLOT)}`);
		} catch (e) {
			/* "Download is starting": what an attachment does. */
		}
		await page.waitForTimeout(300);
		assert(downloaded, 'the PDF was not a download');
		assert(!ran(seen), 'script ran in the PDF navigated to: ' + seen);
		/* Framed by a page of the server's own origin. */
		await page.goto(base + '/healthz');
		await page.evaluate((urls) => {
			for (const u of urls) {
				const f = document.createElement('iframe');
				f.src = u;
				document.body.appendChild(f);
				const o = document.createElement('object');
				o.data = u;
				document.body.appendChild(o);
			}
		}, [img, `${base}/api/v1/blobs/${sha(PDF_POLYGLOT)}`]);
		await page.waitForTimeout(800);
		assert(!ran(seen), 'script ran in a frame: ' + seen);
		assert(await page.title() !== 'PWNED', 'the framing page was changed');
	});
});

run('blobs', {
	teardown: () => { fs.rmSync(dir, { recursive: true, force: true }); },
});
