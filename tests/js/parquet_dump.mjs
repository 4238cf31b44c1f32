// parquet_dump.mjs FILE [--reader hyparquet|duckdb] - read a Parquet file with an
// independent reader and print one JSON object on stdout:
//   {"reader", "num_rows", "row_groups", "columns": [{"name", "type", "repetition",
//    "converted_type", "logical_type"}], "kv": {key: value}, "data": {name: [values]}}
// Integers wider than 2^53 and timestamps print as decimal strings, nulls as null.
// The test suite (tests/integration/test_export.sh) compares this with the run.
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

const args = process.argv.slice(2)
const file = args[0]
const reader = args.includes('--reader') ? args[args.indexOf('--reader') + 1] : 'hyparquet'

function plain(v) {
	if (typeof v === 'bigint') return v.toString()
	if (v instanceof Date) return v.toISOString()
	return v
}

async function withHyparquet() {
	const buf = await asyncBufferFromFile(file)
	const meta = await parquetMetadataAsync(buf)
	const leaves = parquetSchema(meta).children.map(c => c.element)
	const data = {}
	for (const l of leaves) data[l.name] = []
	await parquetRead({
		file: buf,
		metadata: meta,
		compressors,
		rowFormat: 'object',
		parsers: { timestampFromNanoseconds: n => n.toString() },
		onComplete: rows => {
			for (const r of rows) for (const l of leaves) data[l.name].push(plain(r[l.name]))
		},
	})
	const kv = {}
	for (const e of meta.key_value_metadata || []) kv[e.key] = e.value
	return {
		reader: 'hyparquet',
		num_rows: Number(meta.num_rows),
		row_groups: meta.row_groups.length,
		columns: leaves.map(l => ({
			name: l.name,
			type: l.type,
			repetition: l.repetition_type,
			converted_type: l.converted_type ?? null,
			logical_type: l.logical_type ? JSON.parse(JSON.stringify(l.logical_type, (k, v) => plain(v))) : null,
		})),
		kv,
		data,
	}
}

async function withDuckdb() {
	const { DuckDBInstance } = await import('@duckdb/node-api')
	const db = await DuckDBInstance.create(':memory:')
	const con = await db.connect()
	const q = s => s.replaceAll("'", "''")
	const desc = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${q(file)}')`)
	const columns = desc.getRowObjects().map(r => ({ name: r.column_name, type: r.column_type }))
	const rows = await con.runAndReadAll(`SELECT * FROM read_parquet('${q(file)}')`)
	const data = {}
	for (const c of columns) data[c.name] = []
	for (const r of rows.getRowObjects())
		for (const c of columns) {
			let v = r[c.name]
			if (v !== null && typeof v === 'object' && 'micros' in v) v = v.micros
			if (v !== null && typeof v === 'object' && 'nanos' in v) v = v.nanos
			data[c.name].push(plain(v))
		}
	const meta = await con.runAndReadAll(
		`SELECT count(DISTINCT row_group_id) AS g FROM parquet_metadata('${q(file)}')`)
	return {
		reader: 'duckdb',
		num_rows: rows.getRowObjects().length,
		row_groups: Number(meta.getRowObjects()[0].g),
		columns,
		data,
	}
}

const out = reader === 'duckdb' ? await withDuckdb() : await withHyparquet()
process.stdout.write(JSON.stringify(out) + '\n')
