// Package hotlist matches plate reads against hot lists (vehicles of
// interest) in memory, and reads the hot-list CSV files fleet admins load.
//
// # Matching
//
// A Matcher answers app.Matcher: for every OCR candidate of a read it finds
// the entries whose mark is the same (exact), differs by one or two OCR
// look-alike swaps (0/O/D/Q, 1/I/L, 8/B, 5/S, 2/Z, 6/G, 4/A, 7/T), or fits a
// wildcard pattern (`*` any run, `?` one character). It keeps only an Index
// in memory — a packed key and an id per mark, about 12 bytes each — and
// fetches the details of the few entries that matched from its Source (the
// SQLite store implements Source). Each match is judged again against the
// entry as the Source holds it, so an index that lags a change never reports
// a mark the entry no longer has.
//
// # Starting and reloading
//
//	Source ──HotlistKeys──▶ Build ──▶ Index ──WriteSnapshot──▶ file
//	file ──LoadSnapshot (generation matches)──▶ Index
//	Matcher: atomic.Pointer to the Index in use; Reload builds a new one
//	         and swaps it in, so a Match sees the old index or the new one.
//
// Open loads the snapshot file when its generation is the Source's (ten
// million entries in well under a second), and otherwise builds from the
// Source and rewrites the snapshot. OpenStale starts faster still after a
// list changed while the app was not running (an import from the command
// line): it matches with the older snapshot at once and rebuilds in the
// background. Reload and Refresh are serialised; Match never blocks on them.
//
// # CSV
//
// Reader streams entries from a hot-list CSV file in constant memory and
// reports every bad line as a *LineError without stopping; whether a file
// with bad lines is imported at all is the importer's decision (DESIGN.md:
// rejected whole unless the admin asks to skip bad lines).
//
// Generator makes realistic lists for benchmarks and demos; the gen command
// under this directory writes them as CSV.
package hotlist
