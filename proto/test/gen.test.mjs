// Tests of proto/gen.mjs itself: unsupported schema constructs must fail
// with a clear message, output is only rewritten when it changes.
//
//   node --test proto/test/gen.test.mjs      (FLATC=... to pick flatc)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const gen = path.join(here, '..', 'gen.mjs');
const flatc = process.env.FLATC ?? 'flatc';

function withSchema(text, fn) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-test-'));
	try {
		fs.mkdirSync(path.join(dir, 'fbs'));
		fs.writeFileSync(path.join(dir, 'fbs', 'x.fbs'), text);
		return fn(dir);
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

function run(dir, extra = []) {
	return spawnSync(process.execPath, [gen, '--fbs-dir', path.join(dir, 'fbs'), '--out-dir',
		path.join(dir, 'out'), '--flatc', flatc, ...extra], { encoding: 'utf8' });
}

const rejects = {
	struct: ['struct S { a: int; }\ntable T { s: S; }', /structs are not supported/],
	'fixed array': ['struct S { a: [int:4]; }\ntable T { s: S; }', /error/],
	'vector of unions': ['table A {}\nunion U { A }\ntable T { u: [U]; }', /unsupported|not supported/],
	'union of strings': ['table A {}\nunion U { A, s: string }\ntable T { u: U; }', /unsupported|not a table/],
	'force_align': ['table T { v: [ubyte] (force_align: 16); }', /force_align|error/],
	'name clash': ['table T { a: int; has_a: int; }', /clashes/],
	'name clash with start()': ['table T { start: int; }', /clashes/],
	'flatc syntax error': ['table T { a: int }}', /flatc failed/],
};

for (const [name, [schema, re]] of Object.entries(rejects)) {
	test(`rejects ${name}`, () => {
		withSchema(`namespace N;\n${schema}\n`, (dir) => {
			const res = run(dir);
			assert.notEqual(res.status, 0, res.stdout);
			assert.match(res.stderr, /^gen\.mjs: error: /m);
			assert.match(res.stderr, re);
			assert.ok(!fs.existsSync(path.join(dir, 'out', 'fbs_generated.h')));
		});
	});
}

test('bad arguments', () => {
	const res = spawnSync(process.execPath, [gen, '--fbs-dir'], { encoding: 'utf8' });
	assert.notEqual(res.status, 0);
	assert.match(res.stderr, /needs a value/);
});

test('writes only when the content changes', () => {
	withSchema('namespace N;\nenum E: ubyte { A, B = 7 }\ntable T { e: E = B; s: string (required); }\n', (dir) => {
		assert.equal(run(dir).status, 0);
		const h = path.join(dir, 'out', 'fbs_generated.h');
		const text = fs.readFileSync(h, 'utf8');
		assert.match(text, /N_E_B = 7,/);
		assert.match(text, /static inline uint8_t N_T_e\(fb_table_t t\)/);
		assert.match(text, /int N_T_verify_root\(const uint8_t \*buf, size_t len\);/);
		const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 100000); // whole seconds
		fs.utimesSync(h, past, past);
		const again = run(dir);
		assert.equal(again.status, 0);
		assert.match(again.stdout, /unchanged/);
		assert.equal(Math.round(fs.statSync(h).mtimeMs), past.getTime());
	});
});

test('--name picks the output base name and include guard', () => {
	withSchema('namespace N;\ntable T { a: int; }\n', (dir) => {
		assert.equal(run(dir, ['--name', 'my_gen']).status, 0);
		const text = fs.readFileSync(path.join(dir, 'out', 'my_gen.h'), 'utf8');
		assert.match(text, /#ifndef MY_GEN_H/);
		assert.match(fs.readFileSync(path.join(dir, 'out', 'my_gen.c'), 'utf8'), /#include "my_gen.h"/);
	});
});
