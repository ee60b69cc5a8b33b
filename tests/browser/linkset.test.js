/*
 * linkset.test.js - the resolver's linksets and its description file
 * validated with ajv against the JSON Schemas in tests/vectors/gs1/ (the
 * project's reading of RFC 9264 section 4.2 and the GS1-Conformant Resolver
 * Standard 1.2.0; tests/vectors/gs1/README.md says why they are not GS1's
 * own files): every linkset the server serves for a lot, a unit and a
 * compressed URI, asked for by ?linkType=linkset, ?linkType=all, Accept:
 * application/linkset+json and the Link header of the JSON answer, and
 * /.well-known/gs1resolver; each linkset links GS1's JSON-LD context and
 * the description names it.  Broken copies of a real linkset must fail, so
 * the schemas cannot pass everything.  driver.py passes the seeded chains.
 */
const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');
const { Utils } = require('digital-link.js');
const { config, assert, equal, test, run } = require('./lib');

const base = config.base;
const chains = config.chains;
const VECTORS = process.env.TRACE_VECTORS ||
    path.join(__dirname, '..', 'vectors');
const GS1 = 'https://gs1.org/voc/';
const LINKSET_TYPE = 'application/linkset+json';
/* GS1 2.10, 5.13: the JSON-LD context a linkset links to and the
 * description names (the resolver standard's artefact). */
const CONTEXT = 'https://ref.gs1.org/standards/resolver/1.2.0/linkset-context';

/* strict: an unknown keyword or a typo in a schema is an error, not a
 * silently ignored rule (but a required member may be named in an anyOf
 * branch only: "one of the two defaultLink spellings"). */
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormats(ajv);
function schema(name) {
	return ajv.compile(JSON.parse(fs.readFileSync(
	    path.join(VECTORS, 'gs1', name), 'utf8')));
}
const linksetValid = schema('linkset.schema.json');
const descriptionValid = schema('gs1resolver.schema.json');

function valid(check, doc, what) {
	if (!check(doc))
		throw new Error(what + ' does not validate: ' + ajv.errorsText(check.errors));
}

function invalid(check, doc, what) {
	if (check(JSON.parse(JSON.stringify(doc))))
		throw new Error('the schema accepts ' + what);
}

/* The URIs whose linksets are checked: [what, URI asked, URI it stands
 * for].  Serials without leading zeros, as in resolver.test.js (the
 * toolkit's decompressor drops them). */
function uris() {
	const list = [];
	for (const [name, c] of Object.entries(chains))
		list.push(['lot ' + name, base + c.path, base + c.path]);
	for (const unit of [chains.good.path + '/21/7', chains.good.path + '/21/SN-12_ab',
	    chains.partial.path + '/21/150', config.units.path + '/21/S0001'])
		list.push(['unit ' + unit, base + unit, base + unit]);
	for (const plain of [base + chains.good.path, base + chains.fresh.path,
	    base + chains.good.path + '/21/SN-12_ab', base + config.units.path + '/21/S0002'])
		list.push(['compressed ' + plain, Utils.compressWebUri(plain), plain]);
	return list;
}

async function fetchLinkset(url, accept) {
	const r = await fetch(url, { headers: { Accept: accept } });
	equal(r.status, 200, 'status of ' + url);
	equal((r.headers.get('content-type') || '').split(';')[0], LINKSET_TYPE,
	    'media type of ' + url);
	const link = r.headers.get('link') || '';
	assert(link.includes(`<${CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"`),
	    'no JSON-LD context in the Link header of ' + url + ': ' + link);
	return r.json();
}

/* What the schema cannot say: GS1 2.3 and 5.10, the anchor is the
 * uncompressed URI; 2.5.8 and 5.12, the default link's target is also
 * given under a link type that says what it is. */
function checkLinkset(doc, plain, what) {
	valid(linksetValid, doc, what);
	equal(doc.linkset.length, 1, 'link context objects in ' + what);
	const context = doc.linkset[0];
	equal(context.anchor, plain, 'anchor of ' + what);
	const fallback = context[GS1 + 'defaultLink'][0].href;
	const typed = Object.entries(context).some(([rel, targets]) =>
	    rel !== GS1 + 'defaultLink' && Array.isArray(targets) &&
	    targets.some((t) => t.href === fallback));
	assert(typed, 'default link of ' + what + ' has no descriptive link type');
}

test('every linkset the resolver serves validates', async () => {
	let n = 0;
	for (const [what, uri, plain] of uris()) {
		for (const query of ['?linkType=linkset', '?linkType=all']) {
			checkLinkset(await fetchLinkset(uri + query, 'application/json'),
			    plain, what + query);
			n++;
		}
		checkLinkset(await fetchLinkset(uri, LINKSET_TYPE), plain,
		    what + ' (Accept: ' + LINKSET_TYPE + ')');
		n++;
	}
	assert(n >= 30, 'only ' + n + ' linksets checked');
});

test('the linkset the JSON answer links to validates', async () => {
	for (const [what, uri, plain] of uris()) {
		const r = await fetch(uri, { headers: { Accept: 'application/json' } });
		equal(r.status, 200, 'status of ' + uri);
		const link = r.headers.get('link') || '';
		const m = /<([^>]+)>; rel="linkset"; type="application\/linkset\+json"/.exec(link);
		assert(m, 'no rel="linkset" in the Link header of ' + what + ': ' + link);
		checkLinkset(await fetchLinkset(m[1], LINKSET_TYPE), plain, 'linked ' + what);
	}
});

test('/.well-known/gs1resolver validates and matches the linksets', async () => {
	const r = await fetch(base + '/.well-known/gs1resolver');
	equal(r.status, 200, 'status');
	equal((r.headers.get('content-type') || '').split(';')[0], 'application/json',
	    'media type');
	const doc = await r.json();
	valid(descriptionValid, doc, 'the resolver description');
	equal(doc.resolverRoot, base, 'resolverRoot');
	assert(doc.supportedPrimaryKeys.includes('01'), 'GTIN (01) not declared');
	/* GS1 2.11: a resolver should say whether linkset can be its default. */
	equal(typeof doc.linkTypeDefaultCanBeLinkset, 'boolean',
	    'linkTypeDefaultCanBeLinkset');
	equal(doc.jsonLdContextLocation, CONTEXT, 'jsonLdContextLocation');
	/* GS1 2.14: every link type namespace a linkset uses is declared. */
	const spaces = (doc.supportedLinkType || []).map((t) => t.namespace);
	const ls = await fetchLinkset(base + chains.good.path, LINKSET_TYPE);
	for (const rel of Object.keys(ls.linkset[0]).filter((k) => k.includes(':')))
		assert(spaces.some((s) => rel.startsWith(s)),
		    'namespace of ' + rel + ' not in supportedLinkType ' + JSON.stringify(spaces));
});

test('the schemas reject broken linksets and descriptions', async () => {
	const good = await fetchLinkset(base + chains.good.path + '?linkType=all',
	    'application/json');
	valid(linksetValid, good, 'the unbroken linkset');
	const copy = () => JSON.parse(JSON.stringify(good));
	const context = (doc) => doc.linkset[0];
	let doc;

	doc = copy(); delete context(doc).anchor;
	invalid(linksetValid, doc, 'a linkset without anchor');
	doc = copy(); context(doc).anchor = chains.good.path;
	invalid(linksetValid, doc, 'a relative anchor');
	doc = copy(); delete context(doc)[GS1 + 'pip'][0].href;
	invalid(linksetValid, doc, 'a link target without href');
	doc = copy(); context(doc)[GS1 + 'pip'][0].href = 'not a URI';
	invalid(linksetValid, doc, 'an href that is not a URI');
	doc = copy(); delete context(doc)[GS1 + 'pip'][0].title;
	invalid(linksetValid, doc, 'a link without title');
	doc = copy(); context(doc)['gs1:pip'] = context(doc)[GS1 + 'pip'];
	invalid(linksetValid, doc, 'a link type written as a CURIE (gs1:pip)');
	doc = copy(); context(doc)['Product Page'] = context(doc)[GS1 + 'pip'];
	invalid(linksetValid, doc, 'a link type that is neither a URI nor a registered name');
	doc = copy(); context(doc)[GS1 + 'pip'] = context(doc)[GS1 + 'pip'][0];
	invalid(linksetValid, doc, 'a link type whose value is not an array');
	doc = copy(); context(doc)[GS1 + 'pip'] = [];
	invalid(linksetValid, doc, 'a link type without targets');
	doc = copy(); delete context(doc)[GS1 + 'defaultLink'];
	invalid(linksetValid, doc, 'a linkset without default link');
	doc = copy(); context(doc)[GS1 + 'defaultLink'].push(context(doc)[GS1 + 'pip'][0]);
	invalid(linksetValid, doc, 'two default links');
	doc = copy(); context(doc)[GS1 + 'pip'][0].hreflang = 'en';
	invalid(linksetValid, doc, 'hreflang as a string, not an array');
	doc = copy(); context(doc)[GS1 + 'pip'][0].hreflang = ['english'];
	invalid(linksetValid, doc, 'hreflang that is not a language tag');
	doc = copy(); context(doc)[GS1 + 'pip'][0].type = 'html';
	invalid(linksetValid, doc, 'a media type without subtype');
	doc = copy(); doc.extra = [];
	invalid(linksetValid, doc, 'a second top-level member');
	doc = copy(); doc.linkset = context(doc);
	invalid(linksetValid, doc, 'linkset as an object, not an array');
	invalid(linksetValid, { linkset: [] }, 'an empty linkset');

	const r = await fetch(base + '/.well-known/gs1resolver');
	const description = await r.json();
	valid(descriptionValid, description, 'the unbroken description');
	const broken = (change) => {
		const d = JSON.parse(JSON.stringify(description));
		change(d);
		return d;
	};
	invalid(descriptionValid, broken((d) => delete d.resolverRoot),
	    'a description without resolverRoot');
	invalid(descriptionValid, broken((d) => { d.resolverRoot = 'trace.example'; }),
	    'a resolverRoot that is not an absolute URI');
	invalid(descriptionValid, broken((d) => delete d.supportedPrimaryKeys),
	    'a description without supportedPrimaryKeys');
	invalid(descriptionValid, broken((d) => { d.supportedPrimaryKeys = ['gtin']; }),
	    'a primary key named, not given as its AI');
	invalid(descriptionValid, broken((d) => { d.supportedPrimaryKeys = ['10']; }),
	    'a qualifier (10) declared as a primary key');
	invalid(descriptionValid, broken((d) => { d.supportedLinkType[0].prefix = 'gs1'; }),
	    'a link type prefix without its colon');
	invalid(descriptionValid, broken((d) => { d.linkTypeDefaultCanBeLinkset = 'no'; }),
	    'linkTypeDefaultCanBeLinkset that is not a boolean');
});

run('linkset');
