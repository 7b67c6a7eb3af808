#!/usr/bin/env node
// proto/gen.mjs: generates C readers, builders and verifiers for FlatBuffers
// schemas (see proto/README.md).
//
//   node proto/gen.mjs --fbs-dir DIR --out-dir OUT [--flatc flatc] [--name BASE]
//
// Every DIR/*.fbs is compiled by flatc into a binary schema (.bfbs, itself a
// FlatBuffer of flatbuffers' reflection.fbs), read back with the small reader
// below, merged by fully qualified name and turned into OUT/BASE.h and
// OUT/BASE.c (BASE defaults to fbs_generated).  Files are only rewritten when
// their content changes.  No npm dependencies.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

class GenError extends Error {}

function fail(msg) {
	throw new GenError(msg);
}

// ------------------------------------------------------------ command line

function parseArgs(argv) {
	const opts = { fbsDir: null, outDir: null, flatc: 'flatc', name: 'fbs_generated' };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const next = () => {
			if (i + 1 >= argv.length) fail(`${a} needs a value`);
			return argv[++i];
		};
		if (a === '--fbs-dir') opts.fbsDir = next();
		else if (a === '--out-dir') opts.outDir = next();
		else if (a === '--flatc') opts.flatc = next();
		else if (a === '--name') opts.name = next();
		else fail(`unknown argument ${a}`);
	}
	if (!opts.fbsDir || !opts.outDir)
		fail('usage: node gen.mjs --fbs-dir DIR --out-dir OUT [--flatc flatc] [--name fbs_generated]');
	if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(opts.name)) fail(`bad --name ${opts.name}`);
	return opts;
}

// ---------------------------------------------------- reflection (.bfbs)

// reflection.BaseType
const BT = {
	None: 0, UType: 1, Bool: 2, Byte: 3, UByte: 4, Short: 5, UShort: 6, Int: 7,
	UInt: 8, Long: 9, ULong: 10, Float: 11, Double: 12, String: 13, Vector: 14,
	Obj: 15, Union: 16, Array: 17,
};
const BT_NAME = Object.fromEntries(Object.entries(BT).map(([k, v]) => [v, k]));

// Field ids in flatbuffers 2.0.8 reflection/reflection.fbs.
const F = {
	Type: { base_type: 0, element: 1, index: 2 },
	KeyValue: { key: 0, value: 1 },
	EnumVal: { name: 0, value: 1, union_type: 3 },
	Enum: { name: 0, values: 1, is_union: 2, underlying_type: 3, attributes: 4 },
	Field: {
		name: 0, type: 1, id: 2, offset: 3, default_integer: 4, default_real: 5,
		deprecated: 6, required: 7, attributes: 9, optional: 11,
	},
	Object: { name: 0, fields: 1, is_struct: 2, attributes: 5 },
	Schema: { objects: 0, enums: 1, advanced_features: 6 },
};

// reflection.AdvancedFeatures bits
const ADV_OPTIONAL_SCALARS = 4n;

// A minimal FlatBuffers reader, enough for the (trusted) output of flatc.
class BfbsReader {
	constructor(bytes, file) {
		this.bytes = bytes;
		this.file = file;
		this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	}

	at(p, n) {
		if (!Number.isInteger(p) || p < 0 || p + n > this.bytes.length)
			fail(`${this.file}: corrupt binary schema (offset ${p})`);
		return p;
	}

	u8(p) { return this.dv.getUint8(this.at(p, 1)); }
	i8(p) { return this.dv.getInt8(this.at(p, 1)); }
	u16(p) { return this.dv.getUint16(this.at(p, 2), true); }
	i32(p) { return this.dv.getInt32(this.at(p, 4), true); }
	u32(p) { return this.dv.getUint32(this.at(p, 4), true); }
	i64(p) { return this.dv.getBigInt64(this.at(p, 8), true); }
	u64(p) { return this.dv.getBigUint64(this.at(p, 8), true); }
	f64(p) { return this.dv.getFloat64(this.at(p, 8), true); }

	deref(p) { return p + this.u32(p); }
	root() { return this.deref(0); }

	fieldPos(t, id) {
		const vt = t - this.i32(t);
		const vo = 4 + 2 * id;
		if (vo + 2 > this.u16(vt)) return 0;
		const fo = this.u16(vt + vo);
		return fo ? t + fo : 0;
	}

	scalar(t, id, kind, dflt) {
		const p = this.fieldPos(t, id);
		return p ? this[kind](p) : dflt;
	}

	bool(t, id) { return this.scalar(t, id, 'u8', 0) !== 0; }

	table(t, id) {
		const p = this.fieldPos(t, id);
		return p ? this.deref(p) : null;
	}

	string(t, id) {
		const p = this.fieldPos(t, id);
		if (!p) return null;
		const s = this.deref(p);
		const n = this.u32(s);
		this.at(s + 4, n);
		return new TextDecoder().decode(this.bytes.subarray(s + 4, s + 4 + n));
	}

	// Vector of tables: the element tables' positions.
	tables(t, id) {
		const p = this.fieldPos(t, id);
		if (!p) return [];
		const v = this.deref(p);
		const n = this.u32(v);
		const out = [];
		for (let i = 0; i < n; i++) out.push(this.deref(v + 4 + 4 * i));
		return out;
	}
}

// Reads one .bfbs into { objects: [...], enums: [...], advanced }, with type
// references resolved to fully qualified names.
function readBfbs(bytes, file) {
	const r = new BfbsReader(bytes, file);
	if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(4, 8)) !== 'BFBS')
		fail(`${file}: not a binary schema (missing BFBS identifier)`);
	const root = r.root();
	const rawObjects = r.tables(root, F.Schema.objects);
	const rawEnums = r.tables(root, F.Schema.enums);
	const objectNames = rawObjects.map((o) => r.string(o, F.Object.name));
	const enumNames = rawEnums.map((e) => r.string(e, F.Enum.name));

	const attrs = (t, id) =>
		r.tables(t, id).map((kv) => [r.string(kv, F.KeyValue.key), r.string(kv, F.KeyValue.value)]);

	const readType = (t, what) => {
		if (t === null) fail(`${file}: ${what} has no type`);
		const base = r.scalar(t, F.Type.base_type, 'i8', BT.None);
		const element = r.scalar(t, F.Type.element, 'i8', BT.None);
		const index = r.scalar(t, F.Type.index, 'i32', -1);
		const ty = { base, element, ref: null };
		const kind = base === BT.Vector ? element : base;
		if (kind === BT.Obj) {
			if (index < 0 || index >= objectNames.length) fail(`${file}: ${what}: bad object index`);
			ty.ref = objectNames[index];
		} else if (index >= 0) {
			if (index >= enumNames.length) fail(`${file}: ${what}: bad enum index`);
			ty.ref = enumNames[index];
		}
		return ty;
	};

	const objects = rawObjects.map((o, oi) => {
		const name = objectNames[oi];
		return {
			name,
			isStruct: r.bool(o, F.Object.is_struct),
			attributes: attrs(o, F.Object.attributes),
			fields: r.tables(o, F.Object.fields).map((f) => {
				const fname = r.string(f, F.Field.name);
				return {
					name: fname,
					type: readType(r.table(f, F.Field.type), `${name}.${fname}`),
					id: r.scalar(f, F.Field.id, 'u16', 0),
					offset: r.scalar(f, F.Field.offset, 'u16', 0),
					defInt: r.scalar(f, F.Field.default_integer, 'i64', 0n),
					defReal: r.scalar(f, F.Field.default_real, 'f64', 0),
					deprecated: r.bool(f, F.Field.deprecated),
					required: r.bool(f, F.Field.required),
					optional: r.bool(f, F.Field.optional),
					attributes: attrs(f, F.Field.attributes),
				};
			}),
		};
	});

	const enums = rawEnums.map((e, ei) => {
		const name = enumNames[ei];
		return {
			name,
			isUnion: r.bool(e, F.Enum.is_union),
			underlying: readType(r.table(e, F.Enum.underlying_type), name).base,
			attributes: attrs(e, F.Enum.attributes),
			values: r.tables(e, F.Enum.values).map((v) => {
				const vname = r.string(v, F.EnumVal.name);
				const ut = r.table(v, F.EnumVal.union_type);
				return {
					name: vname,
					value: r.scalar(v, F.EnumVal.value, 'i64', 0n),
					unionType: ut === null ? null : readType(ut, `${name}.${vname}`),
				};
			}),
		};
	});

	return {
		objects,
		enums,
		advanced: r.scalar(root, F.Schema.advanced_features, 'u64', 0n),
	};
}

// ----------------------------------------------------------- load + merge

function canon(x) {
	return JSON.stringify(x, (k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

function compileSchemas(fbsDir, flatc) {
	const files = fs
		.readdirSync(fbsDir)
		.filter((f) => f.endsWith('.fbs'))
		.sort();
	if (files.length === 0) fail(`no .fbs files in ${fbsDir}`);
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fbs-gen-'));
	const objects = new Map();
	const enums = new Map();
	let advanced = 0n;
	try {
		for (const f of files) {
			const res = spawnSync(
				flatc,
				['-b', '--schema', '--bfbs-builtins', '-I', fbsDir, '-o', tmp, path.join(fbsDir, f)],
				{ encoding: 'utf8' }
			);
			if (res.error) fail(`cannot run ${flatc}: ${res.error.message}`);
			if (res.status !== 0) fail(`${flatc} failed on ${f}:\n${res.stderr}${res.stdout}`);
			const bfbs = path.join(tmp, f.replace(/\.fbs$/, '.bfbs'));
			const schema = readBfbs(fs.readFileSync(bfbs), bfbs);
			advanced |= schema.advanced;
			for (const [kind, map, list] of [
				['object', objects, schema.objects],
				['enum', enums, schema.enums],
			]) {
				for (const def of list) {
					const prev = map.get(def.name);
					if (prev === undefined) map.set(def.name, { def, file: f });
					else if (canon(prev.def) !== canon(def))
						fail(`${kind} ${def.name} differs between ${prev.file} and ${f}`);
				}
			}
		}
	} finally {
		fs.rmSync(tmp, { recursive: true, force: true });
	}
	const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
	return {
		files,
		advanced,
		objects: [...objects.values()].map((x) => x.def).sort(byName),
		enums: [...enums.values()].map((x) => x.def).sort(byName),
	};
}

// ------------------------------------------------------------ C mapping

const SCALAR = {
	[BT.UType]: { c: 'uint8_t', size: 1, ld: 'u8', signed: false, bits: 8 },
	[BT.Bool]: { c: 'bool', size: 1, ld: 'bool' },
	[BT.Byte]: { c: 'int8_t', size: 1, ld: 'i8', signed: true, bits: 8 },
	[BT.UByte]: { c: 'uint8_t', size: 1, ld: 'u8', signed: false, bits: 8 },
	[BT.Short]: { c: 'int16_t', size: 2, ld: 'i16', signed: true, bits: 16 },
	[BT.UShort]: { c: 'uint16_t', size: 2, ld: 'u16', signed: false, bits: 16 },
	[BT.Int]: { c: 'int32_t', size: 4, ld: 'i32', signed: true, bits: 32 },
	[BT.UInt]: { c: 'uint32_t', size: 4, ld: 'u32', signed: false, bits: 32 },
	[BT.Long]: { c: 'int64_t', size: 8, ld: 'i64', signed: true, bits: 64 },
	[BT.ULong]: { c: 'uint64_t', size: 8, ld: 'u64', signed: false, bits: 64 },
	[BT.Float]: { c: 'float', size: 4, ld: 'f32', float: true },
	[BT.Double]: { c: 'double', size: 8, ld: 'f64', float: true },
};

const isScalar = (b) => SCALAR[b] !== undefined;
const cName = (qualified) => qualified.replace(/\./g, '_');

// C literal of an integer for a scalar type.
function intLiteral(sc, value, what) {
	let v = BigInt(value);
	if (!sc.signed) v = BigInt.asUintN(64, v); // flatc stores uint64 defaults as int64
	const min = sc.signed ? -(1n << BigInt(sc.bits - 1)) : 0n;
	const max = sc.signed ? (1n << BigInt(sc.bits - 1)) - 1n : (1n << BigInt(sc.bits)) - 1n;
	if (v < min || v > max) fail(`${what}: value ${v} does not fit ${sc.c}`);
	if (sc.bits === 64) {
		if (sc.signed && v === min) return '(-INT64_C(9223372036854775807) - 1)';
		return sc.signed ? `INT64_C(${v})` : `UINT64_C(${v})`;
	}
	if (sc.bits === 32) {
		if (sc.signed && v === min) return '(-2147483647 - 1)';
		return sc.signed ? `${v}` : `${v}u`;
	}
	return `${v}`;
}

function floatLiteral(sc, x) {
	let s;
	if (Number.isNaN(x)) s = 'NAN';
	else if (x === Infinity) s = 'INFINITY';
	else if (x === -Infinity) s = '-INFINITY';
	else {
		s = Object.is(x, -0) ? '-0.0' : String(x);
		if (!/[.eE]/.test(s)) s += '.0';
	}
	return sc.c === 'float' ? `((float)${s})` : /[A-Z]/.test(s) ? `((double)${s})` : `(${s})`;
}

// Default value (C expression) of a scalar field as the reader returns it.
function defaultLiteral(field, sc, what) {
	if (field.optional) return sc.c === 'bool' ? 'false' : sc.float ? floatLiteral(sc, 0) : intLiteral(sc, 0n, what);
	if (sc.c === 'bool') return field.defInt !== 0n ? 'true' : 'false';
	if (sc.float) return floatLiteral(sc, field.defReal);
	return intLiteral(sc, field.defInt, what);
}

// Expression giving the uint64_t bit pattern of a scalar value `e`.
function bitsExpr(sc, e) {
	if (sc.c === 'bool') return `(uint64_t)((${e}) ? 1 : 0)`;
	if (sc.c === 'float') return `fb__f32_bits(${e})`;
	if (sc.c === 'double') return `fb__f64_bits(${e})`;
	if (sc.signed) return `(uint64_t)(int64_t)(${e})`;
	return `(uint64_t)(${e})`;
}

// ------------------------------------------------------------- checking

// Classifies every field and rejects what the runtime does not support.
function analyze(model) {
	const objects = new Map(model.objects.map((o) => [o.name, o]));
	const enums = new Map(model.enums.map((e) => [e.name, e]));
	const unsupported = model.advanced & ~ADV_OPTIONAL_SCALARS;
	if (unsupported !== 0n) {
		const what = [
			[1n, 'fixed-size arrays'],
			[2n, 'vectors of unions or unions of strings/structs'],
			[8n, 'default values for strings/vectors'],
		].filter(([bit]) => unsupported & bit).map(([, text]) => text);
		fail(`schemas use unsupported features: ${what.join(', ') || `flags 0x${unsupported.toString(16)}`}`);
	}

	for (const e of model.enums) {
		if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(e.name)) fail(`bad enum name ${e.name}`);
		const sc = SCALAR[e.underlying];
		if (!sc || sc.float || sc.c === 'bool')
			fail(`enum ${e.name}: unsupported underlying type ${BT_NAME[e.underlying]}`);
		for (const v of e.values) {
			// flatc stores values as int64; unsigned 64-bit values come back negative.
			if (!sc.signed) v.value = BigInt.asUintN(64, v.value);
			intLiteral(sc, v.value, `${e.name}.${v.name}`);
			if (e.isUnion && v.value !== 0n) {
				const ut = v.unionType;
				if (!ut || ut.base !== BT.Obj || !objects.has(ut.ref))
					fail(`union ${e.name}: member ${v.name} is not a table (unsupported)`);
			}
		}
	}

	for (const o of model.objects) {
		if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(o.name)) fail(`bad table name ${o.name}`);
		if (o.isStruct) fail(`struct ${o.name}: structs are not supported by proto/gen.mjs`);
		const byName = new Map(o.fields.map((f) => [f.name, f]));
		const ids = new Set();
		for (const f of o.fields) {
			const what = `${o.name}.${f.name}`;
			if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name)) fail(`${what}: bad field name`);
			if (ids.has(f.id)) fail(`${what}: duplicate field id ${f.id}`);
			ids.add(f.id);
			if (f.offset !== 4 + 2 * f.id) fail(`${what}: vtable offset ${f.offset} != 4 + 2 * id`);
			for (const [k] of f.attributes)
				if (k === 'force_align') fail(`${what}: force_align is not supported`);
			const t = f.type;
			if (t.base === BT.Obj) {
				const target = objects.get(t.ref);
				if (!target || target.isStruct) fail(`${what}: struct fields are not supported`);
				f.kind = 'table';
			} else if (t.base === BT.String) {
				f.kind = 'string';
			} else if (t.base === BT.Union) {
				const u = enums.get(t.ref);
				if (!u || !u.isUnion) fail(`${what}: union type ${t.ref} not found`);
				const tf = byName.get(`${f.name}_type`);
				if (!tf || tf.type.base !== BT.UType || tf.id !== f.id - 1 || tf.type.ref !== t.ref)
					fail(`${what}: union without a matching ${f.name}_type field`);
				f.kind = 'union';
				f.typeField = tf;
			} else if (t.base === BT.UType) {
				f.kind = 'utype';
			} else if (t.base === BT.Vector) {
				if (t.element === BT.Obj) {
					const target = objects.get(t.ref);
					if (!target || target.isStruct) fail(`${what}: vectors of structs are not supported`);
					f.kind = 'vec_table';
				} else if (t.element === BT.String) {
					f.kind = 'vec_string';
				} else if (isScalar(t.element) && t.element !== BT.UType) {
					f.kind = 'vec_scalar';
				} else {
					fail(`${what}: vectors of ${BT_NAME[t.element]} are not supported`);
				}
			} else if (isScalar(t.base)) {
				f.kind = 'scalar';
				if (f.required) fail(`${what}: required scalar`);
			} else {
				fail(`${what}: unsupported field type ${BT_NAME[t.base]}`);
			}
		}
		// Slots in the vtable: one per id, deprecated ones included.
		o.nfields = o.fields.reduce((m, f) => Math.max(m, f.id + 1), 0);
		o.live = o.fields.filter((f) => !f.deprecated).sort((a, b) => a.id - b.id);
		for (const f of o.live)
			if (f.kind === 'union' && f.typeField.deprecated)
				fail(`${o.name}.${f.name}: deprecated union type field`);
	}
	return { objects, enums };
}

// -------------------------------------------------------------- emitting

class Names {
	constructor() {
		this.seen = new Map();
	}

	add(name, what) {
		const prev = this.seen.get(name);
		if (prev !== undefined) fail(`generated C name ${name} clashes: ${prev} and ${what}`);
		this.seen.set(name, what);
		return name;
	}
}

function generate(model, baseName) {
	analyze(model);
	const names = new Names();
	const h = [];
	const c = [];
	let needMath = false;
	const vfy = (name) => `fbgen__verify_${cName(name)}`;
	const vfyUnion = (name) => `fbgen__verify_union_${cName(name)}`;
	const touchUnion = (name) => `fbgen__touch_union_${cName(name)}`;
	const cloneUnion = (name) => `fbgen__clone_union_${cName(name)}`;
	const fileList = model.files.join(' ');

	h.push('/* Generated by proto/gen.mjs: do not edit. */');
	h.push(`/* Schemas: ${fileList} */`);
	const guard = `${baseName.toUpperCase()}_H`;
	h.push(`#ifndef ${guard}`, `#define ${guard}`, '');
	h.push('#include <stdbool.h>', '#include <stddef.h>', '#include <stdint.h>', '');
	h.push('@MATH@', '#include "fb.h"', '');

	c.push('/* Generated by proto/gen.mjs: do not edit. */');
	c.push('#include <stdlib.h>', `#include "${baseName}.h"`, '');

	// Enums and unions: constants and name lookup.
	h.push('/* ---- enums and unions ---- */', '');
	for (const e of model.enums) {
		const p = cName(e.name);
		const sc = SCALAR[e.underlying];
		const kind = e.isUnion ? 'union' : `enum (${sc.c})`;
		h.push(`/* ${kind} ${e.name} */`);
		const fitsInt = e.values.every((v) => v.value >= -(2n ** 31n) && v.value < 2n ** 31n);
		if (fitsInt && e.values.length > 0) {
			h.push('enum {');
			for (const v of e.values)
				h.push(`\t${names.add(`${p}_${v.name}`, `${e.name}.${v.name}`)} = ${v.value},`);
			h.push('};');
		} else {
			for (const v of e.values)
				h.push(`#define ${names.add(`${p}_${v.name}`, `${e.name}.${v.name}`)} ` +
					`${intLiteral(sc, v.value, e.name)}`);
		}
		const fn = names.add(`${p}_name`, `${e.name} name()`);
		h.push(`const char *${fn}(int64_t v);`, '');
		c.push(`const char *${fn}(int64_t v)`, '{', '\tswitch (v) {');
		const done = new Set();
		for (const v of e.values) {
			const key = BigInt.asIntN(64, v.value);
			if (done.has(key)) continue;
			done.add(key);
			const lit = key >= -(2n ** 31n) && key < 2n ** 31n ? `${key}` : key === -(2n ** 63n) ?
				'(-INT64_C(9223372036854775807) - 1)' : `INT64_C(${key})`;
			c.push(`\tcase ${lit}:`, `\t\treturn "${v.name}";`);
		}
		c.push('\tdefault:', '\t\treturn NULL;', '\t}', '}', '');
	}

	// Forward declarations of the static verifiers and union helpers.
	for (const o of model.objects)
		c.push(`static int ${names.add(vfy(o.name), o.name)}(fb__verifier_t *v, uint32_t pos);`);
	for (const e of model.enums) {
		if (!e.isUnion) continue;
		c.push(`static int ${names.add(vfyUnion(e.name), e.name)}(fb__verifier_t *v, uint8_t type, uint32_t pos);`);
		c.push(`static void ${names.add(touchUnion(e.name), e.name)}(uint8_t type, fb_table_t t, uint64_t *acc);`);
		c.push(`static fb_ref_t ${names.add(cloneUnion(e.name), e.name)}(fb_builder_t *b, uint8_t type, fb_table_t t);`);
	}
	c.push('');

	// Tables.
	h.push('/* ---- tables ---- */', '');
	for (const o of model.objects) {
		const p = cName(o.name);
		const fnName = (suffix, what) => names.add(`${p}_${suffix}`, `${o.name} ${what}`);
		const required = o.live.filter((f) => f.required).map((f) => f.id);
		h.push(`/* table ${o.name} */`);
		h.push(`static inline fb_table_t ${fnName('root', 'root()')}(const uint8_t *buf, size_t len)`);
		h.push('{', '\treturn fb__root(buf, len);', '}');
		h.push(`int ${fnName('verify_root', 'verify_root()')}(const uint8_t *buf, size_t len);`);
		h.push(`void ${fnName('touch', 'touch()')}(fb_table_t t, uint64_t *acc);`);
		h.push(`fb_ref_t ${fnName('clone', 'clone()')}(fb_builder_t *b, fb_table_t t);`);

		// Readers.
		for (const f of o.live) {
			const vo = 4 + 2 * f.id;
			const what = `field ${f.name}`;
			h.push(`static inline bool ${fnName(`has_${f.name}`, what)}(fb_table_t t)`);
			h.push('{', `\treturn fb__field(t, ${vo}) != 0;`, '}');
			const reader = fnName(f.name, what);
			switch (f.kind) {
			case 'scalar':
			case 'utype': {
				const sc = SCALAR[f.type.base];
				const dflt = defaultLiteral(f, sc, `${o.name}.${f.name}`);
				if (/NAN|INFINITY/.test(dflt)) needMath = true;
				h.push(`static inline ${sc.c} ${reader}(fb_table_t t)`, '{');
				h.push(`\tuint32_t p = fb__field(t, ${vo});`, '');
				h.push(`\treturn p != 0 ? fb__ld_${sc.ld}(t.buf + p) : ${dflt};`, '}');
				break;
			}
			case 'string':
				h.push(`static inline fb_str_t ${reader}(fb_table_t t)`, '{', `\treturn fb__str(t, ${vo});`, '}');
				break;
			case 'table':
			case 'union':
				h.push(`static inline fb_table_t ${reader}(fb_table_t t)`, '{', `\treturn fb__tab(t, ${vo});`, '}');
				break;
			default: /* vectors */
				h.push(`static inline fb_vec_t ${reader}(fb_table_t t)`, '{', `\treturn fb__vec(t, ${vo});`, '}');
				break;
			}
		}

		// Builder.
		h.push(`static inline void ${fnName('start', 'start()')}(fb_builder_t *b)`);
		h.push('{', `\tfb__table_start(b, ${o.nfields});`, '}');
		for (const f of o.live) {
			if (f.kind === 'utype') continue; /* written by the union's add */
			const add = fnName(`add_${f.name}`, `field ${f.name} add()`);
			if (f.kind === 'scalar') {
				const sc = SCALAR[f.type.base];
				h.push(`static inline void ${add}(fb_builder_t *b, ${sc.c} v)`, '{');
				const write = `fb__add_scalar(b, ${f.id}, ${bitsExpr(sc, 'v')}, ${sc.size});`;
				if (f.optional) {
					h.push(`\t${write}`);
				} else {
					const dflt = defaultLiteral(f, sc, `${o.name}.${f.name}`);
					// Floats compare by bit pattern (keeps -0.0, quiet with -Wfloat-equal).
					const cond = sc.float ? `${bitsExpr(sc, 'v')} != ${bitsExpr(sc, dflt)}` : `v != ${dflt}`;
					h.push(`\tif (${cond})`, `\t\t${write}`);
				}
				h.push('}');
			} else if (f.kind === 'union') {
				h.push(`static inline void ${add}(fb_builder_t *b, uint8_t type, fb_ref_t r)`, '{');
				h.push(`\tfb__add_union(b, ${f.typeField.id}, ${f.id}, type, r);`, '}');
			} else {
				h.push(`static inline void ${add}(fb_builder_t *b, fb_ref_t r)`, '{');
				h.push(`\tfb__add_ref(b, ${f.id}, r);`, '}');
			}
		}
		h.push(`static inline fb_ref_t ${fnName('end', 'end()')}(fb_builder_t *b)`, '{');
		if (required.length > 0) {
			h.push(`\tstatic const uint16_t required[] = { ${required.join(', ')} };`, '');
			h.push(`\treturn fb__table_end(b, required, ${required.length});`, '}');
		} else {
			h.push('\treturn fb__table_end(b, NULL, 0);', '}');
		}
		h.push('');

		// Verifier.
		c.push(`/* table ${o.name} */`);
		c.push(`static int ${vfy(o.name)}(fb__verifier_t *v, uint32_t pos)`, '{');
		c.push('\tfb__vtab_t t;', '\tint r;', '');
		c.push('\tif ((r = fb__vfy_enter(v, pos, &t)) != 0)', '\t\treturn r;');
		for (const f of o.live) {
			const req = f.required ? 'true' : 'false';
			let call;
			switch (f.kind) {
			case 'scalar':
				call = `fb__vfy_scalar(v, &t, ${f.id}, ${SCALAR[f.type.base].size})`;
				break;
			case 'utype':
				continue; /* checked with its union */
			case 'string':
				call = `fb__vfy_string(v, &t, ${f.id}, ${req})`;
				break;
			case 'table':
				call = `fb__vfy_table(v, &t, ${f.id}, ${req}, ${vfy(f.type.ref)})`;
				break;
			case 'union':
				call = `fb__vfy_union(v, &t, ${f.typeField.id}, ${f.id}, ${req}, ${vfyUnion(f.type.ref)})`;
				break;
			case 'vec_scalar':
				call = `fb__vfy_vec_scalar(v, &t, ${f.id}, ${req}, ${SCALAR[f.type.element].size})`;
				break;
			case 'vec_string':
				call = `fb__vfy_vec_string(v, &t, ${f.id}, ${req})`;
				break;
			case 'vec_table':
				call = `fb__vfy_vec_table(v, &t, ${f.id}, ${req}, ${vfy(f.type.ref)})`;
				break;
			default:
				fail(`internal: kind ${f.kind}`);
			}
			c.push(`\tif ((r = ${call}) != 0) /* ${f.name} */`, '\t\treturn r;');
		}
		c.push('\treturn fb__vfy_leave(v);', '}', '');
		c.push(`int ${p}_verify_root(const uint8_t *buf, size_t len)`, '{');
		c.push(`\treturn fb__vfy_root(buf, len, ${vfy(o.name)});`, '}', '');

		// Touch: read everything, fold it into *acc.
		c.push(`void ${p}_touch(fb_table_t t, uint64_t *acc)`, '{');
		const decl = o.live.some((f) => f.kind.startsWith('vec_'));
		if (decl) c.push('\tfb_vec_t vec;', '\tuint32_t i;', '');
		c.push('\tif (t.buf == NULL) {', '\t\tfb__fold(acc, 0);', '\t\treturn;', '\t}');
		for (const f of o.live) {
			const get = `${p}_${f.name}(t)`;
			switch (f.kind) {
			case 'scalar':
				if (f.optional) c.push(`\tfb__fold(acc, ${p}_has_${f.name}(t));`);
				c.push(`\tfb__fold(acc, ${bitsExpr(SCALAR[f.type.base], get)});`);
				break;
			case 'utype':
				break;
			case 'string':
				c.push(`\tfb__fold_str(acc, ${get});`);
				break;
			case 'table':
				c.push(`\t${cName(f.type.ref)}_touch(${get}, acc);`);
				break;
			case 'union':
				c.push(`\t${touchUnion(f.type.ref)}(${p}_${f.typeField.name}(t), ${get}, acc);`);
				break;
			case 'vec_scalar': {
				const sc = SCALAR[f.type.element];
				c.push(`\tvec = ${get};`, '\tfb__fold(acc, vec.len);');
				c.push('\tfor (i = 0; i < vec.len; i++)');
				c.push(`\t\tfb__fold(acc, ${bitsExpr(sc, `fb_vec_${sc.ld}(vec, i)`)});`);
				break;
			}
			case 'vec_string':
				c.push(`\tvec = ${get};`, '\tfb__fold(acc, vec.len);');
				c.push('\tfor (i = 0; i < vec.len; i++)', '\t\tfb__fold_str(acc, fb_vec_str(vec, i));');
				break;
			case 'vec_table':
				c.push(`\tvec = ${get};`, '\tfb__fold(acc, vec.len);');
				c.push('\tfor (i = 0; i < vec.len; i++)');
				c.push(`\t\t${cName(f.type.ref)}_touch(fb_vec_table(vec, i), acc);`);
				break;
			default:
				fail(`internal: kind ${f.kind}`);
			}
		}
		c.push('}', '');

		// Clone: deep copy of a (verified) table into a builder; children first.
		c.push(`fb_ref_t ${p}_clone(fb_builder_t *b, fb_table_t t)`, '{');
		const refFields = o.live.filter((f) => !['scalar', 'utype'].includes(f.kind));
		for (const f of refFields) c.push(`	fb_ref_t r_${f.name} = 0;`);
		if (o.live.some((f) => f.kind.startsWith('vec_'))) c.push('	fb_vec_t vec;', '	uint32_t i;');
		c.push('', '	if (t.buf == NULL)', '		return 0;');
		for (const f of refFields) {
			const get = `${p}_${f.name}(t)`;
			switch (f.kind) {
			case 'string':
				c.push(`	if (${p}_has_${f.name}(t))`, `		r_${f.name} = fb_create_string(b, ${get}.ptr, ${get}.len);`);
				break;
			case 'table':
				c.push(`	r_${f.name} = ${cName(f.type.ref)}_clone(b, ${get});`);
				break;
			case 'union':
				c.push(`	r_${f.name} = ${cloneUnion(f.type.ref)}(b, ${p}_${f.typeField.name}(t), ${get});`);
				break;
			case 'vec_scalar': {
				const sc = SCALAR[f.type.element];
				c.push(`	if (${p}_has_${f.name}(t)) {`, `		${sc.c} *tmp;`, `		vec = ${get};`);
				c.push(`		tmp = fb__clone_alloc(b, vec.len, sizeof(*tmp));`);
				c.push('		if (tmp != NULL || vec.len == 0) {');
				c.push('			for (i = 0; i < vec.len; i++)', `				tmp[i] = fb_vec_${sc.ld}(vec, i);`);
				c.push(`			r_${f.name} = fb_create_vec_scalars(b, tmp, sizeof(*tmp), vec.len);`, '			free(tmp);', '		}', '	}');
				break;
			}
			case 'vec_string':
			case 'vec_table': {
				const elem = f.kind === 'vec_string' ? 'fb_create_string(b, fb_vec_str(vec, i).ptr, fb_vec_str(vec, i).len)'
					: `${cName(f.type.ref)}_clone(b, fb_vec_table(vec, i))`;
				c.push(`	if (${p}_has_${f.name}(t)) {`, '		fb_ref_t *tmp;', `		vec = ${get};`);
				c.push('		tmp = fb__clone_alloc(b, vec.len, sizeof(*tmp));');
				c.push('		if (tmp != NULL || vec.len == 0) {');
				c.push('			for (i = 0; i < vec.len; i++)', `				tmp[i] = ${elem};`);
				c.push(`			r_${f.name} = fb_create_vec_refs(b, tmp, vec.len);`, '			free(tmp);', '		}', '	}');
				break;
			}
			default:
				fail(`internal: kind ${f.kind}`);
			}
		}
		c.push(`	${p}_start(b);`);
		for (const f of o.live) {
			if (f.kind === 'utype') continue;
			if (f.kind === 'scalar') {
				c.push(`	if (${p}_has_${f.name}(t))`, `		${p}_add_${f.name}(b, ${p}_${f.name}(t));`);
			} else if (f.kind === 'union') {
				c.push(`	if (r_${f.name} != 0)`, `		${p}_add_${f.name}(b, ${p}_${f.typeField.name}(t), r_${f.name});`);
			} else {
				c.push(`	${p}_add_${f.name}(b, r_${f.name});`);
			}
		}
		c.push(`	return ${p}_end(b);`, '}', '');
	}

	// Union dispatch for verify and touch.
	for (const e of model.enums) {
		if (!e.isUnion) continue;
		const members = e.values.filter((v) => v.value !== 0n);
		c.push(`/* union ${e.name} */`);
		c.push(`static int ${vfyUnion(e.name)}(fb__verifier_t *v, uint8_t type, uint32_t pos)`, '{');
		c.push('\tswitch (type) {');
		for (const m of members)
			c.push(`\tcase ${m.value}:`, `\t\treturn ${vfy(m.unionType.ref)}(v, pos);`);
		c.push('\tdefault:', '\t\treturn FB_EUNION;', '\t}', '}', '');
		c.push(`static void ${touchUnion(e.name)}(uint8_t type, fb_table_t t, uint64_t *acc)`, '{');
		c.push('\tfb__fold(acc, type);', '\tswitch (type) {');
		for (const m of members)
			c.push(`\tcase ${m.value}:`, `\t\t${cName(m.unionType.ref)}_touch(t, acc);`, '\t\tbreak;');
		c.push('\tdefault:', '\t\tfb__fold(acc, t.buf != NULL);', '\t\tbreak;', '\t}', '}', '');
		c.push(`static fb_ref_t ${cloneUnion(e.name)}(fb_builder_t *b, uint8_t type, fb_table_t t)`, '{');
		c.push('\tswitch (type) {');
		for (const m of members)
			c.push(`\tcase ${m.value}:`, `\t\treturn ${cName(m.unionType.ref)}_clone(b, t);`);
		c.push('\tdefault:', '\t\treturn 0;', '\t}', '}', '');
	}

	h.push(`#endif /* ${guard} */`);
	const hText = h.join('\n').replace('@MATH@\n', needMath ? '#include <math.h>\n' : '') + '\n';
	return { h: hText, c: c.join('\n') + '\n' };
}

// ----------------------------------------------------------------- main

function writeIfChanged(file, text) {
	try {
		if (fs.readFileSync(file, 'utf8') === text) return false;
	} catch {
		/* missing: write it */
	}
	const tmp = `${file}.tmp${process.pid}`;
	fs.writeFileSync(tmp, text);
	fs.renameSync(tmp, file);
	return true;
}

function main() {
	const opts = parseArgs(process.argv.slice(2));
	const model = compileSchemas(opts.fbsDir, opts.flatc);
	const out = generate(model, opts.name);
	fs.mkdirSync(opts.outDir, { recursive: true });
	const wroteH = writeIfChanged(path.join(opts.outDir, `${opts.name}.h`), out.h);
	const wroteC = writeIfChanged(path.join(opts.outDir, `${opts.name}.c`), out.c);
	const tables = model.objects.length;
	const enums = model.enums.length;
	process.stdout.write(`gen.mjs: ${tables} tables, ${enums} enums/unions from ${model.files.length} schemas` +
		`${wroteH || wroteC ? '' : ' (unchanged)'}\n`);
}

try {
	main();
} catch (err) {
	if (err instanceof GenError) {
		process.stderr.write(`gen.mjs: error: ${err.message}\n`);
		process.exit(1);
	}
	throw err;
}
