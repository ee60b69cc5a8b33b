/*
 * lib.js - what every *.test.js here shares: the driver's configuration
 * (driver.py passes its path as the first argument), assertions, the test
 * list and its runner, and Debian's chromium started headless the way this
 * machine allows (no sandbox as root, no background networking: the
 * network is closed).
 */
'use strict';

const fs = require('fs');
const { chromium } = require('playwright-core');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

function equal(a, b, message) {
	if (a !== b)
		throw new Error(`${message}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
}

const tests = [];

function test(name, fn) {
	tests.push({ name, fn });
}

/* chromium headless; extra flags after the common ones. */
function launch(extra = []) {
	return chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		    '--disable-background-networking', '--disable-component-update',
		    '--disable-sync', ...extra],
	});
}

/*
 * Run the tests in order, each after the one before; print "ok"/"FAIL" per
 * test and "SUITE: N passed, N failed" + note() (the driver counts these
 * lines), then exit 1 on any failure.  setup runs before the first test,
 * teardown after the last, whatever happened.
 */
function run(suite, { setup, teardown, note } = {}) {
	(async () => {
		let passed = 0, failed = 0;

		if (setup)
			await setup();
		for (const t of tests) {
			try {
				await t.fn();
				passed++;
				console.log('  ok    ' + t.name);
			} catch (e) {
				failed++;
				console.log('  FAIL  ' + t.name + '\n        ' + (e && e.message || e));
			}
		}
		if (teardown)
			await teardown();
		console.log(`${suite}: ${passed} passed, ${failed} failed${note ? note() : ''}`);
		process.exit(failed === 0 ? 0 : 1);
	})();
}

module.exports = { config, assert, equal, test, launch, run };
