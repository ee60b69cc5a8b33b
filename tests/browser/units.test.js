/*
 * units.test.js CONFIG.json - SPEC 12 in the browser: a unit page for a
 * serial the brand never issued says so (and the device's own fold agrees:
 * data-fold-issued), and a scratch-off code entered on the unit page, with
 * JavaScript and without it (the plain HTML form), answers "genuine, first
 * verification" the first time and "first verified on T" after; a wrong
 * code says it is wrong.  The issued-serial proof check of verify.js is
 * run on a proof built here and on a tampered one.  Screenshots go to
 * config.screenshots.  Prints "N passed, N failed".
 */
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { config, assert, equal, test, launch, run } = require('./lib');

const base = config.base;
const units = config.units;
const shots = config.screenshots;
const PHONE = { width: 360, height: 740 };

let browser;
async function phone(locale, javaScriptEnabled) {
	const context = await browser.newContext({ viewport: PHONE, locale,
	    deviceScaleFactor: 2, javaScriptEnabled });
	const page = await context.newPage();
	page.seen = { errors: [] };
	page.on('pageerror', (e) => page.seen.errors.push(e.message));
	return page;
}

async function shot(page, name) {
	fs.mkdirSync(shots, { recursive: true });
	await page.screenshot({ path: path.join(shots, name), fullPage: true });
}

function unit(serial, lang) {
	return base + units.path + '/21/' + serial + '?lang=' + lang;
}

async function enter(page, serial, code, lang) {
	await page.goto(unit(serial, lang));
	await page.fill('#code-input', code);
	await Promise.all([page.waitForNavigation(), page.click('#code-submit')]);
}

test('an invented serial: "never issued", on the server and on the device', async () => {
	const page = await phone('en-US', true);
	await page.goto(unit(units.invented, 'en'));
	assert(await page.locator('#never-issued').isVisible(), 'no never-issued card');
	assert((await page.textContent('#never-issued')).includes(
	    'This serial was never issued for this lot'), 'text');
	await page.waitForSelector('#device-check[data-fold-issued]', { timeout: 15000 });
	equal(await page.getAttribute('#device-check', 'data-fold-issued'), 'false', 'device');
	equal(await page.locator('#code-form').count(), 0, 'a code form on an invented serial');
	await shot(page, 'unit-never-issued.png');
	await page.goto(unit('S0050', 'en'));
	equal(await page.locator('#never-issued').count(), 0, 'never-issued on an issued serial');
	await page.waitForSelector('#device-check[data-fold-issued]', { timeout: 15000 });
	equal(await page.getAttribute('#device-check', 'data-fold-issued'), 'true', 'device');
	equal(page.seen.errors.length, 0, 'page errors: ' + page.seen.errors.join(' | '));
	await page.context().close();
});

for (const js of [false, true]) {
	test(`a code entered ${js ? 'with' : 'without'} JavaScript: first, then "first verified on"`, async () => {
		const serial = js ? 'S0002' : 'S0001';
		const code = units.codes[serial];
		const page = await phone('zh-CN', js);
		await enter(page, serial, '0000000000000000', 'en');
		assert(await page.locator('#code-wrong').isVisible(), 'a wrong code is not said wrong');
		await enter(page, serial, code.slice(0, 4) + ' ' + code.slice(4), 'en');
		assert(await page.locator('#code-first').isVisible(), 'no first verification');
		assert((await page.textContent('#code-first')).includes('first verification'), 'text');
		await shot(page, `unit-code-first-${js ? 'js' : 'nojs'}.png`);
		await enter(page, serial, code, 'zh-CN');
		const again = await page.textContent('#code-again');
		assert(/此防伪码已于 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 首次查询/.test(again), 'zh: ' + again);
		await enter(page, serial, code, 'ko');
		assert((await page.textContent('#code-again')).includes('처음 확인되었습니다'), 'ko');
		await shot(page, `unit-code-again-${js ? 'js' : 'nojs'}.png`);
		equal(page.seen.errors.length, 0, 'page errors: ' + page.seen.errors.join(' | '));
		await page.context().close();
	});
}

/* A proof checked by verify.js: RFC 6962 over the sorted serials. */
test('verify.js checks issued-serial proofs and refuses a tampered one', async () => {
	const h = (b) => crypto.createHash('sha256').update(b).digest();
	const leaf = (s) => h(Buffer.concat([Buffer.from([0]), Buffer.from(s)]));
	const node = (a, b) => h(Buffer.concat([Buffer.from([1]), a, b]));
	/* Four leaves A1 B2 C3 D4: root = node(node(A,B), node(C,D)). */
	const L = ['A1', 'B2', 'C3', 'D4'].map(leaf);
	const root = node(node(L[0], L[1]), node(L[2], L[3])).toString('hex');
	const proofB = { serial: 'B2', index: 1, path: [L[0].toString('hex'),
	    node(L[2], L[3]).toString('hex')] };
	const proofC = { serial: 'C3', index: 2, path: [L[3].toString('hex'),
	    node(L[0], L[1]).toString('hex')] };
	const page = await phone('en-US', true);
	await page.goto(unit('S0050', 'en'));
	const got = await page.evaluate(async (a) => {
		const T = window.TraceVerify;
		const member = { root: a.root, count: 4, member: true, leaf: a.proofB };
		const between = { root: a.root, count: 4, member: false, left: a.proofB,
		    right: a.proofC };
		const bent = JSON.parse(JSON.stringify(between));
		bent.right.path[0] = bent.right.path[0].replace(/^./, (c) => c === '0' ? '1' : '0');
		return [await T.verifyIssuedProof('B2', member, a.root, 4),
		    await T.verifyIssuedProof('B3', between, a.root, 4),
		    await T.verifyIssuedProof('B3', bent, a.root, 4),
		    await T.verifyIssuedProof('D9', between, a.root, 4),
		    await T.verifyIssuedProof('B3', member, a.root, 4)];
	}, { root, proofB, proofC });
	equal(JSON.stringify(got), JSON.stringify([true, false, null, null, null]), 'answers');
	await page.context().close();
});

run('units', {
	setup: async () => { browser = await launch(); },
	teardown: () => browser.close(),
	note: () => ` (screenshots in ${shots})`,
});
